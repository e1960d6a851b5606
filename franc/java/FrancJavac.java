import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;
import com.sun.source.util.JavacTask;
import com.sun.tools.javac.api.JavacTaskPool;

/**
 * FRANC's warm javac: one JVM compiles many units, each as its own compilation task.
 *
 * Protocol on stdin/stdout, big-endian, every string as int length + UTF-8 bytes.
 * On start (after a warm-up compile) the helper writes the int READY.
 * Request: outdir (empty = only check: no class files), int n, then n times
 * (file name, source). Response: int ok (1/0), int n, then n error messages.
 * Annotation processing is always off (-proc:none): processors would run code.
 *
 * A check stops after flow analysis (which reports errors such as 'missing return'): a
 * verdict needs no class files. Checks reuse javac's context through JavacTaskPool (as
 * JShell does), so the JDK's symbol tables are read once, not once per unit; the pool drops
 * each unit's own classes after it and never reuses a context a unit polluted. Needs
 * --add-exports jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED at build and run time.
 * With -Dfranc.javac.fresh=true every check is a fresh full compile instead (the old way,
 * for side-by-side benchmarks and verdict comparisons).
 */
public final class FrancJavac {
    static final int READY = 0x4652414e;  // "FRAN"
    private static final List<String> OPTIONS = List.of(
            "-proc:none", "-nowarn", "-Xlint:none", "-Xmaxerrs", "20", "-implicit:none");

    /** A source held in memory. */
    private static final class Source extends SimpleJavaFileObject {
        private final String text;

        Source(String name, String text) {
            super(URI.create("string:///" + name), JavaFileObject.Kind.SOURCE);
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }

    /** A class file kept in memory and thrown away: checks must not write files. */
    private static final class Discarded extends SimpleJavaFileObject {
        Discarded(String className, JavaFileObject.Kind kind) {
            super(URI.create("mem:///" + className.replace('.', '/') + kind.extension), kind);
        }

        @Override
        public OutputStream openOutputStream() {
            return new ByteArrayOutputStream();
        }
    }

    private static final class InMemory extends ForwardingJavaFileManager<JavaFileManager> {
        InMemory(JavaFileManager inner) {
            super(inner);
        }

        @Override
        public JavaFileObject getJavaFileForOutput(Location location, String className,
                JavaFileObject.Kind kind, FileObject sibling) {
            return new Discarded(className, kind);
        }
    }

    private final JavaCompiler compiler;
    private final StandardJavaFileManager standard;
    private final InMemory inMemory;
    private final JavacTaskPool contexts = new JavacTaskPool(1);  // one unit at a time
    private final boolean fresh = Boolean.getBoolean("franc.javac.fresh");

    private FrancJavac(JavaCompiler compiler, File emptyDir) throws IOException {
        this.compiler = compiler;
        this.standard = compiler.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8);
        // An empty class path and source path: a unit sees only the JDK, never stray files.
        standard.setLocation(StandardLocation.CLASS_PATH, List.of(emptyDir));
        standard.setLocation(StandardLocation.SOURCE_PATH, List.of(emptyDir));
        this.inMemory = new InMemory(standard);
    }

    private List<String> compile(String outdir, List<String> names, List<String> sources)
            throws IOException {
        List<Source> units = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            units.add(new Source(names.get(i), sources.get(i)));
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<String> errors = new ArrayList<>();
        try {
            boolean ok;
            if (outdir.isEmpty() && !fresh) {
                ok = contexts.getTask(null, inMemory, diagnostics, OPTIONS, null, units,
                        task -> check(task, diagnostics));
            } else if (outdir.isEmpty()) {
                ok = compiler.getTask(null, inMemory, diagnostics, OPTIONS, null, units).call();
            } else {
                standard.setLocation(StandardLocation.CLASS_OUTPUT, List.of(new File(outdir)));
                ok = compiler.getTask(null, standard, diagnostics, OPTIONS, null, units).call();
            }
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR) {
                    errors.add(format(d));
                }
            }
            if (!ok && errors.isEmpty()) {
                errors.add("javac: compilation failed without a message");
            }
        } catch (Throwable t) {
            // javac itself broke (e.g. StackOverflowError on absurdly nested code): report, keep serving.
            errors.add("javac crashed: " + t);
        }
        return errors;
    }

    /** Parse, then (like javac, only without syntax errors) attribute and run flow analysis. */
    private static boolean check(JavacTask task, DiagnosticCollector<JavaFileObject> diagnostics) {
        try {
            task.parse();
            if (!hasErrors(diagnostics)) {
                task.analyze();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return !hasErrors(diagnostics);
    }

    private static boolean hasErrors(DiagnosticCollector<JavaFileObject> diagnostics) {
        return diagnostics.getDiagnostics().stream()
                .anyMatch(d -> d.getKind() == Diagnostic.Kind.ERROR);
    }

    private static String format(Diagnostic<? extends JavaFileObject> d) {
        String file = d.getSource() == null ? "" : d.getSource().getName().replaceFirst("^/", "");
        String where = d.getLineNumber() == Diagnostic.NOPOS ? file : file + ":" + d.getLineNumber();
        return where + ": error: " + d.getMessage(Locale.ROOT);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    public static void main(String[] args) throws IOException {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        if (compiler == null) {
            System.err.println("no system Java compiler: a JDK (not a JRE) is needed");
            System.exit(3);
        }
        FrancJavac javac = new FrancJavac(compiler, new File(args[0]));
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out, 1 << 16));
        // Load javac's classes before the first real unit, so that a unit's timeout measures
        // the unit, then tell the caller we are ready.
        javac.compile("", List.of("Warm.java"), List.of("class Warm {}"));
        out.writeInt(READY);
        out.flush();
        while (true) {
            String outdir;
            try {
                outdir = readString(in);
            } catch (EOFException end) {
                return;
            }
            int count = in.readInt();
            List<String> names = new ArrayList<>(count);
            List<String> sources = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                names.add(readString(in));
                sources.add(readString(in));
            }
            List<String> errors = javac.compile(outdir, names, sources);
            out.writeInt(errors.isEmpty() ? 1 : 0);
            out.writeInt(errors.size());
            for (String error : errors) {
                writeString(out, error);
            }
            out.flush();
        }
    }
}
