"""alloy's third-party repositories, all built from the system's packages.

Call alloy_dependencies() from a WORKSPACE (alloy's own, or a consumer's that
names alloy with local_repository). A repository that already exists is left
alone, so a consumer can bring the upstream archive under the same name.
"""

load("//tools/bazel:system_library.bzl", "system_library")

def _maybe(name, **kwargs):
    if name not in native.existing_rules():
        system_library(name = name, **kwargs)

def alloy_dependencies():
    _maybe(
        name = "valgrind",
        build_files = {Label("//tools/bazel/third_party:valgrind.BUILD"): ""},
    )

    # Only the integrations (//integrations/lua, //integrations/sqlite) load these.
    _maybe(
        name = "lua",
        build_files = {Label("//tools/bazel/third_party:lua.BUILD"): ""},
        headers = {"/usr/include/lua5.4": "include"},
        pkg_config = ["lua5.4"],
    )
    _maybe(
        name = "sqlite3",
        build_files = {Label("//tools/bazel/third_party:sqlite3.BUILD"): ""},
        pkg_config = ["sqlite3"],
    )

def alloy_dev_dependencies():
    """What alloy's own tests and benchmarks need; consumers do not."""
    _maybe(
        name = "com_google_googletest",
        build_files = {Label("//tools/bazel/third_party:googletest.BUILD"): ""},
        pkg_config = ["gtest", "gtest_main", "gmock"],
    )
    _maybe(
        name = "com_google_benchmark",
        build_files = {Label("//tools/bazel/third_party:benchmark.BUILD"): ""},
        pkg_config = ["benchmark"],
    )
    _maybe(
        name = "com_google_absl",
        build_files = {
            Label("//tools/bazel/third_party:absl_flags.BUILD"): "absl/flags",
            Label("//tools/bazel/third_party:absl_random.BUILD"): "absl/random",
            Label("//tools/bazel/third_party:absl_strings.BUILD"): "absl/strings",
            Label("//tools/bazel/third_party:absl_time.BUILD"): "absl/time",
        },
        pkg_config = [
            "absl_flags",
            "absl_flags_parse",
            "absl_random_random",
            "absl_random_distributions",
            "absl_strings",
            "absl_str_format",
            "absl_time",
        ],
    )
