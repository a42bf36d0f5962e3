"""Fuzz targets that are libFuzzer binaries under --config=fuzz and replay tests elsewhere."""

def alloy_fuzz_test(name, srcs, deps = [], corpus = None, generated_inputs = None, **kwargs):
    """A fuzz target; `corpus` names a directory of seed inputs (checked in).

    Outside the fuzz config the replay main runs every file of the corpus,
    then a deterministic stream of generated inputs (`generated_inputs` of
    them when set, else the replay main's default).
    """
    corpus_data = native.glob([corpus + "/**"]) if corpus else []
    corpus_args = ["%s/%s" % (native.package_name(), corpus)] if corpus else []
    if generated_inputs != None:
        corpus_args.append("--generated=%d" % generated_inputs)
    native.cc_test(
        name = name,
        srcs = srcs,
        size = "small",
        copts = ["-std=c++17"],
        data = corpus_data,
        deps = deps + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": ["//tests/fuzz:replay_main"],
        }),
        linkopts = select({
            "//tests/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        args = select({
            # A bounded run when the fuzzer is executed as a test.
            "//tests/fuzz:fuzzing": ["-max_total_time=20", "-max_len=768", "-rss_limit_mb=4096"],
            "//conditions:default": corpus_args,
        }),
        **kwargs
    )
