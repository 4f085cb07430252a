"""Safe file input and output for the commands: check paths before the work, write atomically.

Every command that reads or writes files goes through these helpers, so that

- an output path is checked before any long work starts (its folder exists and is writable, it
  is not a folder, it is not one of the command's inputs, it has the suffix the format needs);
- an output is written to a temporary file in the same folder and renamed over the path given
  (``os.replace``), so a failed command leaves nothing half-written and never adds a suffix;
- an input that is missing, a folder, unreadable, empty, binary where text is expected, or not
  a ``.npz`` archive is a :class:`~neurochip.errors.ConfigError` naming the file and saying
  what was expected, never a traceback.  ``.npz`` files are read with pickles disabled.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import ConfigError

__all__ = ["atomic_path", "atomic_write", "check_input_file", "check_output_path", "input_errors", "load_npz"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members / an empty zip


def _same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):  # also catches hard links and symlinks
            return True
    except OSError:
        pass
    return os.path.abspath(os.path.realpath(a)) == os.path.abspath(os.path.realpath(b))


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    suffix: str | Iterable[str] | None = None,
    flag: str = "-o",
) -> Path:
    """Check that ``path`` can be written, before any work is done.

    Parameters
    ----------
    path : str or path-like
        The output file.
    inputs : iterable of str or path-like
        The command's input files; ``path`` must be none of them (compared as resolved paths
        and with :func:`os.path.samefile`, so a symlink or hard link to an input is caught).
        ``None`` entries are ignored.
    suffix : str or iterable of str, optional
        The suffix (or one of the suffixes) the file must end with, such as ``".npz"``; a
        path without it is refused, never silently extended.
    flag : str
        The option that gave the path, for the message.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    ConfigError
        Naming the flag and the path, with what is wrong.

    Examples
    --------
    >>> check_output_path("no/such/folder/run.npz")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: -o no/such/folder/run.npz: folder 'no/such/folder' does not exist
    """
    text = os.fspath(path)
    p = Path(text)
    where = f"{flag} {text}"
    if not text:
        raise ConfigError(f"{flag}: empty path")
    if text.endswith(("/", os.sep)) or p.is_dir():
        raise ConfigError(f"{where}: is a folder; expected a file name")
    if suffix is not None:
        allowed = (suffix,) if isinstance(suffix, str) else tuple(suffix)
        if not text.lower().endswith(tuple(s.lower() for s in allowed)):
            raise ConfigError(f"{where}: must end with {allowed[0] if len(allowed) == 1 else 'one of ' + ', '.join(allowed)}"
                              " (the suffix chooses the format; the file is written exactly as named)")
    if p.exists() and not p.is_file():  # a device or a pipe: renaming onto it would replace the node
        raise ConfigError(f"{where}: exists and is not a regular file")
    folder = p.parent if str(p.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{where}: '{folder}' is not a folder")
    if not folder.is_dir():
        raise ConfigError(f"{where}: folder '{folder}' does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: folder '{folder}' is not writable")
    for inp in inputs:
        if inp is None:
            continue
        if _same_file(p, Path(os.fspath(inp))):
            raise ConfigError(f"{where}: is the input file {os.fspath(inp)}; refusing to overwrite an input")
    return p


def check_input_file(
    path: str | os.PathLike[str], flag: str | None = None, *, text: bool = False, what: str | None = None
) -> Path:
    """Check that an input file exists, is a file and can be read.

    Parameters
    ----------
    path : str or path-like
        The input file.
    flag : str, optional
        The option or argument that gave it, for the message.
    text : bool
        Also require the file to be UTF-8 text (TOML, netlists, CSV tables).
    what : str, optional
        What the file should be (``"a TOML chip spec"``), for the messages.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        ``"<path>: file not found"``, ``"<path>: is a folder, expected a file"``,
        ``"<path>: cannot be read (permission denied)"`` or ``"<path>: not UTF-8 text ..."``.

    Examples
    --------
    >>> check_input_file("no/such/net.npz")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no/such/net.npz: file not found
    """
    name = os.fspath(path)
    label = f"{flag} {name}" if flag else name
    p = Path(name)
    if p.is_dir():
        raise ConfigError(f"{label}: is a folder; expected {what or 'a file'}")
    if not p.exists():
        raise ConfigError(f"{label}: file not found")
    if not p.is_file():
        raise ConfigError(f"{label}: not a regular file (a device or a pipe?); expected {what or 'a file'}")
    try:
        with p.open("rb") as fh:
            if text:
                decoder = codecs.getincrementaldecoder("utf-8")()
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            else:
                fh.read(1)
    except PermissionError:
        raise ConfigError(f"{label}: cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not UTF-8 text (a binary file?); expected {what or 'a text file'}") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    return p


@contextlib.contextmanager
def input_errors(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Turn the errors a bad input file raises while it is read into a ConfigError naming it.

    Parameters
    ----------
    path : str or path-like
        The file being read.
    what : str
        What it should be (``"a TOML chip spec"``), for the message.

    Yields
    ------
    None

    Raises
    ------
    ConfigError
        From ``UnicodeDecodeError``, ``EOFError``, ``IsADirectoryError``, ``PermissionError``,
        ``FileNotFoundError`` and ``zipfile.BadZipFile`` raised in the block.
    """
    name = os.fspath(path)
    try:
        yield
    except UnicodeDecodeError:
        raise ConfigError(f"not UTF-8 text (a binary file?); expected {what}", path=name) from None
    except EOFError:
        raise ConfigError(f"empty or truncated; expected {what}", path=name) from None
    except IsADirectoryError:
        raise ConfigError(f"is a folder; expected {what}", path=name) from None
    except PermissionError:
        raise ConfigError("cannot be read (permission denied)", path=name) from None
    except FileNotFoundError:
        raise ConfigError(f"no such file; expected {what}", path=name) from None
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise ConfigError(f"damaged archive ({exc}); expected {what}", path=name) from None


def load_npz(
    path: str | os.PathLike[str], what: str, *, keys: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` archive, read eagerly and without pickles.

    Parameters
    ----------
    path : str or path-like
        The archive.
    what : str
        What it should hold (``"a neurochip network file"``), for the messages.
    keys : iterable of str, optional
        Read only these arrays (those of them the archive holds); default every array.

    Returns
    -------
    dict of str to ndarray
        The arrays by name, in the archive's order; a key the archive lacks is simply absent.

    Raises
    ------
    ConfigError
        Naming the file when it is missing, a folder, unreadable, empty, not a zip archive
        (a PNG, a text file), truncated or damaged, or holds an object array (which would need
        pickle, never enabled).

    Examples
    --------
    >>> load_npz("no/such/run.npz", "a run file")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no/such/run.npz: no such file; expected a run file
    """
    name = os.fspath(path)
    p = Path(name)
    if p.is_dir():
        raise ConfigError(f"is a folder; expected {what}", path=name)
    if not p.is_file():
        raise ConfigError(f"no such file; expected {what}", path=name)
    with input_errors(name, what):
        with p.open("rb") as fh:
            magic = fh.read(4)
        if not magic:
            raise ConfigError(f"cannot read as a .npz archive: the file is empty; expected {what}", path=name)
        if magic not in _ZIP_MAGIC:
            raise ConfigError(f"cannot read as a .npz archive: not a zip file; expected {what}", path=name)
        out: dict[str, np.ndarray] = {}
        try:
            with np.load(p, allow_pickle=False) as data:
                wanted = None if keys is None else set(keys)
                for key in data.files:
                    if wanted is not None and key not in wanted:
                        continue
                    try:
                        out[key] = data[key]
                    except ValueError as exc:
                        if "allow_pickle" not in str(exc):
                            raise
                        raise ConfigError(f"array {key!r} holds Python objects (pickle), which neurochip never "
                                          f"loads; expected {what}", path=name) from None
        except ConfigError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise ConfigError(f"cannot read as a .npz archive: truncated or damaged ({exc}); expected {what}",
                              path=name) from None
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary path beside ``path`` (same suffix) that replaces ``path`` when the block succeeds.

    For writers that take a file name (matplotlib, HDF5).  When the block raises, the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The final file.

    Yields
    ------
    str
        The temporary file's path, to write to.

    Raises
    ------
    ConfigError
        When the temporary file cannot be created or renamed.
    """
    final = Path(os.fspath(path))
    folder = final.parent if str(final.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=f".tmp{final.suffix}", dir=folder)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", path=str(final)) from None
    os.close(fd)
    try:
        yield tmp
        if os.path.exists(final):
            with contextlib.suppress(OSError):
                os.chmod(tmp, os.stat(final).st_mode & 0o7777)
        else:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, final)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", path=str(final)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write(path: str | os.PathLike[str], write_fn: Callable[[IO[Any]], object], *, text: bool = False) -> None:
    """Write a file atomically: ``write_fn(fh)`` writes a temporary file, renamed onto ``path``.

    Parameters
    ----------
    path : str or path-like
        The final file, written exactly as named (``np.savez`` given the file object adds no
        suffix).
    write_fn : callable
        Called with the open temporary file (binary, or UTF-8 text when ``text``).
    text : bool
        Open the temporary file in text mode.

    Raises
    ------
    ConfigError
        When the file cannot be written; nothing is left behind and ``path`` is unchanged.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write(os.path.join(tmp, "a.run"), lambda fh: np.savez(fh, x=np.arange(3)))
    ...     sorted(os.listdir(tmp))
    ['a.run']
    """
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "w" if text else "wb", **({"encoding": "utf-8", "newline": ""} if text else {})) as fh:
                write_fn(fh)
        except OSError as exc:
            raise ConfigError(f"cannot write: {exc.strerror or exc}", path=os.fspath(path)) from None
