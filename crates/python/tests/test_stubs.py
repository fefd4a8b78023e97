"""The .pyi stubs are checked against the compiled module: the same names, and each function's
parameters and defaults as PyO3 declares them."""

import ast
import inspect
import pathlib

import gigawatt
import gigawatt._native as native

STUB = pathlib.Path(gigawatt.__file__).with_name("_native.pyi")


def stub_tree():
    return ast.parse(STUB.read_text())


def stub_functions():
    return {n.name: n for n in stub_tree().body if isinstance(n, ast.FunctionDef)}


def public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def test_the_stub_file_ships_in_the_package():
    assert STUB.exists()
    assert pathlib.Path(gigawatt.__file__).with_name("py.typed").exists()


def test_every_name_in_the_module_has_a_stub_and_every_stub_a_name():
    tree = stub_tree()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    assert names == public(native)


def test_each_function_has_the_stubs_parameters_and_defaults():
    for name, node in stub_functions().items():
        signature = inspect.signature(getattr(native, name))
        params = [a.arg for a in node.args.args]
        assert params == list(signature.parameters), name
        defaults = [ast.literal_eval(d) for d in node.args.defaults]
        actual = [p.default for p in signature.parameters.values() if p.default is not inspect.Parameter.empty]
        assert defaults == actual, name


def test_result_methods_match():
    classes = {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef)}
    stub_methods = {f.name for f in classes["NativeResult"].body if isinstance(f, ast.FunctionDef)}
    assert stub_methods == {m for m in dir(native.NativeResult) if not m.startswith("_")}


def test_the_package_exports_what_all_says_with_docstrings():
    for name in gigawatt.__all__:
        obj = getattr(gigawatt, name)
        if callable(obj) and not isinstance(obj, str):
            assert obj.__doc__, name
