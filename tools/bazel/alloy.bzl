"""Rules every alloy package uses, so that flags and include style live in one place.

Public headers are included as "alloy/<name>.h" whatever package they live in:
`alloy_library` maps `<package>/<name>.h` to `alloy/<name>.h`, and
`alloy_cxx_library` does the same for the C++ face's `alloy/<name>.hpp`.
"""

ALLOY_C_COPTS = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wvla",
]

ALLOY_CXX_COPTS = [
    "-std=c++17",
    "-Wall",
    "-Wextra",
]

# Everything inside this repository; internals use it as their visibility.
ALLOY_INTERNAL = ["//:__subpackages__"]

def alloy_library(name, hdrs = [], srcs = [], deps = [], copts = [], **kwargs):
    """A C11 library whose public headers are included as "alloy/<file>"."""
    native.cc_library(
        name = name,
        hdrs = hdrs,
        srcs = srcs,
        deps = deps,
        include_prefix = "alloy",
        strip_include_prefix = "/" + native.package_name(),
        copts = ALLOY_C_COPTS + copts,
        **kwargs
    )

def alloy_cxx_library(name, hdrs = [], srcs = [], deps = [], copts = [], **kwargs):
    """A C++17 library whose public headers are included as "alloy/<file>"."""
    native.cc_library(
        name = name,
        hdrs = hdrs,
        srcs = srcs,
        deps = deps,
        include_prefix = "alloy",
        strip_include_prefix = "/" + native.package_name(),
        copts = ALLOY_CXX_COPTS + copts,
        **kwargs
    )

def _is_cxx(srcs):
    return [s for s in srcs if s.endswith(".cc")] != []

def alloy_test(name, srcs, deps = [], size = "small", copts = [], **kwargs):
    """A GoogleTest suite (C++) that exercises the C API."""
    native.cc_test(
        name = name,
        srcs = srcs,
        size = size,
        copts = ALLOY_CXX_COPTS + copts,
        deps = deps + [
            "//tests/support",
            "@com_google_googletest//:gtest",
            "@com_google_googletest//:gtest_main",
        ],
        **kwargs
    )

def alloy_binary(name, srcs, deps = [], copts = [], **kwargs):
    """A C11 program (samples), or a C++17 one when its sources are .cc files."""
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        copts = (ALLOY_CXX_COPTS if _is_cxx(srcs) else ALLOY_C_COPTS) + copts,
        **kwargs
    )

def alloy_sample(name, srcs, expect, deps = [], copts = [], linkopts = [], size = "small", **kwargs):
    """A sample program, and `<name>_test`, which runs it and checks its output.

    expect: extended regular expressions, each of which some line of the
    sample's output must match; the sample must also exit 0.
    """
    alloy_binary(name = name, srcs = srcs, deps = deps, copts = copts, linkopts = linkopts, **kwargs)
    native.sh_test(
        name = name + "_test",
        size = size,
        srcs = ["//samples:run_sample.sh"],
        # Bazel splits args like a shell and expands "$": quote each
        # expression whole and double its "$".
        args = ["$(rootpath :%s)" % name] + ["'%s'" % e.replace("$", "$$") for e in expect],
        data = [":" + name],
    )

def alloy_benchmark(name, srcs, deps = [], copts = [], tags = [], own_main = False, **kwargs):
    """A per-strategy Google Benchmark (C++) with the shared loops and clocks.

    Tagged `benchmark`, as every benchmark binary is.
    own_main: the program defines main() itself (e.g. to print ratio tables).
    """
    native.cc_binary(
        name = name,
        srcs = srcs,
        copts = ALLOY_CXX_COPTS + copts,
        tags = tags + ([] if "benchmark" in tags else ["benchmark"]),
        deps = deps + [
            "//bench/support",
            "@com_google_benchmark//:benchmark",
        ] + ([] if own_main else ["@com_google_benchmark//:benchmark_main"]),
        **kwargs
    )
