"""Build of the compiled emulator core.

Package layout and metadata are in pyproject.toml.  Here: every ``emulator/*.pyx`` is compiled
into ``neurochip.emulator.<name>``, and ``neurochip/network/_csr.pyx`` into the network model's
counting sort, ``neurochip/stepped/_loop.pyx`` into the time-stepped engine's step loop (the emulator/ folder is installed as the package
``neurochip.emulator``, so nothing called ``emulator`` lands at the top of site-packages).
The emulator is one module, ``_engine``, split into the includes ``emulator/*.pxi``: they are
its dependencies, so editing one rebuilds it.
"""

from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent


def write_plugins() -> None:
    """emulator/_plugins.pxi: one include per plug-in neuron model (emulator/models/NAME.pxi),
    so that adding a model is adding its file (docs/architecture.md, "where to add X")."""
    models = sorted((HERE / "emulator" / "models").glob("*.pxi"))
    text = "# Written by setup.py: every plug-in neuron model of emulator/models/ (do not edit).\n"
    text += "".join(f'include "models/{p.name}"\n' for p in models)
    target = HERE / "emulator" / "_plugins.pxi"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


write_plugins()
INCLUDES = [str(p.relative_to(HERE)) for p in sorted((HERE / "emulator").rglob("*.pxi"))]
extensions = [
    Extension(
        f"neurochip.emulator.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        depends=INCLUDES,
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-falign-functions=64", "-falign-loops=32"],
        # linked against libm itself, so that exp and log bind to glibc's present versions
        # (an unversioned reference binds to the oldest, exp@GLIBC_2.2.5: a wrapper around the
        # same function that costs a call and an error check on every exp of the kernel)
        libraries=["m"],
    )
    for pyx in sorted((HERE / "emulator").glob("*.pyx"))
] + [
    # the network model's counting sort (synapse rows): compiled, but no part of the emulator
    Extension(
        "neurochip.network._csr",
        ["neurochip/network/_csr.pyx"],
        extra_compile_args=["-O3"],
    ),
    # the time-stepped engine's step loop (neurochip.stepped.engine keeps the NumPy reference)
    Extension(
        "neurochip.stepped._loop",
        ["neurochip/stepped/_loop.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
