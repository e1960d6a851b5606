"""FRANC's warm Java compiler: a small javax.tools helper (FrancJavac.java) driven over a pipe."""

from franc.java.compiler import JavaCompiler, build_helper
from franc.java.syntax import java_class_name, syntax_errors

__all__ = ["JavaCompiler", "build_helper", "java_class_name", "syntax_errors"]
