"""FRANC's warm Java compiler: a small javax.tools helper (FrancJavac.java) driven over a pipe."""

from franc.java.compiler import JavaCompiler, build_helper, is_tool_failure
from franc.java.syntax import java_class_name, syntax_errors

__all__ = ["JavaCompiler", "build_helper", "is_tool_failure", "java_class_name", "syntax_errors"]
