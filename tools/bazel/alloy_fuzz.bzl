"""Fuzz targets that are libFuzzer binaries under --config=fuzz and replay tests elsewhere."""

def alloy_fuzz_test(name, srcs, deps = [], **kwargs):
    native.cc_test(
        name = name,
        srcs = srcs,
        size = "small",
        copts = ["-std=c++17"],
        deps = deps + ["//tests/fuzz:resource_fuzz_driver"] + select({
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
            "//conditions:default": [],
        }),
        **kwargs
    )
