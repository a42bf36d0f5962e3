"""A repository built from a library installed by the system's package manager.

Each repository gets the BUILD files it is given (one per package, so that a
library like Abseil keeps its upstream labels such as
`@com_google_absl//absl/flags:flag`) and a generated `//:pkg_config.bzl`
holding `LIBS[module]`, the linker flags `pkg-config --libs module` reports on
this machine. Headers stay where the package manager put them, on the
compiler's default search path, or, for a library that keeps them in a
directory of its own (Lua's /usr/include/lua5.4), are linked into the
repository by `headers` so that its BUILD file can export them. A consumer on a modern Bazel replaces the
repository with the upstream archive under the same name and label set.

A module pkg-config does not know does not fail the fetch: the error (what to
install) comes when a package of the repository is loaded, that is only for a
target that needs the library. Targets that do not (all but //integrations/lua
on a machine without Lua) keep building, and so do fetches and queries that
merely reach the repository.
"""

def _pkg_config_bzl(libs, missing):
    """//:pkg_config.bzl: LIBS, or, when a module is missing, an error raised
    only when a package of the repository is loaded."""
    if not missing:
        return "LIBS = %s\n" % repr(libs)
    return "fail(%s)\n" % repr("\n".join(missing))

def _system_library_impl(ctx):
    libs = {}
    missing = []
    for module in ctx.attr.pkg_config:
        result = ctx.execute(["pkg-config", "--libs", module])
        if result.return_code != 0:
            missing.append("pkg-config does not know '%s'; install it with ./setup.sh (%s)" %
                           (module, result.stderr.strip()))
            continue
        libs[module] = result.stdout.strip().split(" ")
    for system_dir, link in ctx.attr.headers.items():
        if not ctx.path(system_dir).exists:
            missing.append("%s is missing; install it with ./setup.sh" % system_dir)
            continue
        ctx.symlink(system_dir, link)
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)
    ctx.file("pkg_config.bzl", _pkg_config_bzl(libs, missing))
    for build_file, package in ctx.attr.build_files.items():
        path = package + "/BUILD" if package else "BUILD"
        ctx.file(path, ctx.read(build_file))
    if "" not in ctx.attr.build_files.values():
        ctx.file("BUILD", "")

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "build_files": attr.label_keyed_string_dict(
            doc = "BUILD file -> package path inside the repository ('' = root).",
            allow_files = True,
        ),
        "pkg_config": attr.string_list(doc = "pkg-config modules whose --libs are exposed."),
        "headers": attr.string_dict(
            doc = "System header directory -> the path it is linked at inside the repository.",
        ),
    },
    local = True,
)
