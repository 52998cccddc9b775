"""The command-line tools as modules, loaded from ``tools/`` by path (tools are scripts, not a package)."""
import importlib.util
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parents[1] / 'tools'


def load_tool(name: str):
    """``tools/<name>.py`` as a module; call its ``main(argv)``."""
    spec = importlib.util.spec_from_file_location(f'wsss_tool_{name}', TOOLS_DIR / f'{name}.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
