"""The C++ operators and the preload library of one malloc variant (release or checked)."""

load("//tools/bazel:alloy.bzl", "alloy_cxx_library")

# The preload library's operators name nothing of the C++ runtime at link
# time (no exceptions, no RTTI); a failed new finds the program's runtime
# then (new_failure_preload.cc).
_PRELOAD_NEW_COPTS = [
    "-fno-exceptions",
    "-fno-rtti",
]

# Exports the C functions and the C++ operators (exports.lds): a preloaded
# C++ program's new and delete come here too, so its sized deletes pass
# their size on. Linked --as-needed, so that of the libraries every
# toolchain link names (the C++ runtime, libm) it records only those it
# calls: a C program that preloads it loads no C++ runtime.
_PRELOAD_LINKOPTS = [
    "-Wl,--as-needed",
    "-Wl,--version-script=$(location exports.lds)",
]

def malloc_variant(suffix, c_library):
    """`alloy_new<suffix>`, `preload_new<suffix>` and `liballoy_malloc<suffix>.so` over `c_library`.

    Args:
      suffix: "" for the release malloc, "_debug" for the checked one.
      c_library: the target with the variant's C functions.
    """

    # Every replaceable operator new and delete of C++17 over the C
    # functions, the sized deletes passing their size on, for C++ programs
    # that link the malloc in.
    alloy_cxx_library(
        name = "alloy_new" + suffix,
        srcs = [
            "new_failure.cc",
            "new_failure.h",
            "operator_new.cc",
        ],
        visibility = ["//visibility:public"],
        alwayslink = True,
        linkstatic = True,
        deps = [
            c_library,
            "//primitives",
        ],
    )

    # The same operators for the preload library, which C programs load too.
    alloy_cxx_library(
        name = "preload_new" + suffix,
        srcs = [
            "new_failure.h",
            "new_failure_preload.cc",
            "operator_new.cc",
        ],
        copts = _PRELOAD_NEW_COPTS,
        linkopts = ["-ldl"],
        alwayslink = True,
        linkstatic = True,
        deps = [
            c_library,
            "//primitives",
        ],
    )

    # `LD_PRELOAD=liballoy_malloc<suffix>.so program`.
    native.cc_binary(
        name = "liballoy_malloc%s.so" % suffix,
        additional_linker_inputs = ["exports.lds"],
        linkopts = _PRELOAD_LINKOPTS,
        linkshared = True,
        visibility = ["//visibility:public"],
        deps = [":preload_new" + suffix],
    )
