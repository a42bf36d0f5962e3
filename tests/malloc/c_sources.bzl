"""The C sources and headers of cc_library targets and of everything they
depend on in this repository, as runfiles: what preload_gcc_test compiles.

The libraries are public, their files are not (no exports_files): an aspect
walks `deps` and collects each library's own `srcs` and `hdrs`.
"""

_CSourcesInfo = provider(fields = ["files"])

def _collect_impl(target, ctx):
    own = [
        f
        for attr in ("srcs", "hdrs")
        for f in getattr(ctx.rule.files, attr, [])
        if f.is_source and f.owner.workspace_name == ""
    ]
    deps = [d[_CSourcesInfo].files for d in getattr(ctx.rule.attr, "deps", []) if _CSourcesInfo in d]
    return [_CSourcesInfo(files = depset(own, transitive = deps))]

_collect = aspect(implementation = _collect_impl, attr_aspects = ["deps"])

def _c_sources_impl(ctx):
    files = depset(transitive = [lib[_CSourcesInfo].files for lib in ctx.attr.libraries])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

c_sources = rule(
    implementation = _c_sources_impl,
    attrs = {"libraries": attr.label_list(aspects = [_collect], providers = [CcInfo])},
)
