package franc;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;
import java.util.Map;

/**
 * A warm trusted JVM for Java tests (franc/evaluation/checkers.py): it never loads a
 * candidate's class. stdin/stdout are a socket to FRANC, which sends each job as a frame:
 * the task's test classes (test, stub of the candidate's class, FrancBridge, FrancPlain),
 * the test class, the test's classes it lends by name ("lent") and as replaying stubs
 * ("replayed"), and the paths under /proc of FRANC's two ends of the sandboxed candidate's
 * channel. Each job loads its classes in a fresh class loader (no static state survives a
 * job) and runs FrancBridge.run; the verdict frame is {"passed": true} or
 * {"thrown": "Type: message"} (what an uncaught exception would print).
 */
public final class FrancChecker {
    private FrancChecker() {}

    public static void main(String[] args) throws Exception {
        InputStream jobs = new FileInputStream(FileDescriptor.in);
        OutputStream verdicts = new FileOutputStream(FileDescriptor.out);
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        System.setIn(new java.io.ByteArrayInputStream(new byte[0]));
        while (true) {
            String frame = FrancPlain.readFrame(jobs);
            if (frame == null) return;
            @SuppressWarnings("unchecked")
            Map<String, Object> job = (Map<String, Object>) FrancPlain.parse(frame);
            String verdict;
            PrintStream out = System.out;
            PrintStream err = System.err;
            try {
                run(job);
                verdict = "{\"passed\":true}";
            } catch (Throwable thrown) {
                verdict = "{\"thrown\":" + FrancPlain.quote(thrown.toString()) + "}";
            } finally {  // a test that redirected them leaves them to the next job otherwise
                System.setOut(out);
                System.setErr(err);
            }
            FrancPlain.writeFrame(verdicts, verdict);
        }
    }

    private static void run(Map<String, Object> job) throws Throwable {
        URL classes = Paths.get((String) job.get("classes")).toUri().toURL();
        // The platform loader as parent: the job's own FrancBridge and FrancPlain load fresh.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes},
                    ClassLoader.getPlatformClassLoader());
                InputStream answers = new FileInputStream((String) job.get("answers"));
                OutputStream requests = new FileOutputStream((String) job.get("requests"))) {
            Class<?> bridge = loader.loadClass("franc.FrancBridge");
            bridge.getMethod("run", String.class, java.util.List.class, java.util.List.class, InputStream.class,
                    OutputStream.class).invoke(null, job.get("test"), job.get("lent"), job.get("replayed"), answers, requests);
        } catch (InvocationTargetException thrown) {
            throw thrown.getCause();
        }
    }
}
