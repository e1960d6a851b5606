package franc;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * The trusted end for Java tests: the test's class runs against a stub of the candidate's
 * class whose methods call {@link #call}, which forwards plain-data arguments to the
 * sandboxed FrancCallee and returns the plain-data result as the declared type. stdin and
 * stdout are the channel, so the test's own prints go to stderr.
 */
public final class FrancBridge {
    private static final InputStream ANSWERS = new FileInputStream(FileDescriptor.in);
    private static final OutputStream REQUESTS = new FileOutputStream(FileDescriptor.out);
    private static final java.util.Random IDS = new java.security.SecureRandom();

    static {
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
    }

    private FrancBridge() {}

    /** Run the test class named in args[0]; its uncaught exception is the verdict. */
    public static void main(String[] args) throws Throwable {
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.setAccessible(true);
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (java.lang.reflect.InvocationTargetException thrown) {
            throw thrown.getCause();
        }
        System.exit(0);
    }

    /** The candidate's process ended or broke the channel (not an Exception: tests catch those). */
    public static final class CandidateGone extends Error {
        public CandidateGone(String message) { super(message); }
    }

    public static Object call(Class<?> stub, String name, Object[] args) {
        Method declared = null;
        for (Method method : stub.getDeclaredMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == args.length) declared = method;
        }
        String id = Long.toHexString(IDS.nextLong()) + Long.toHexString(IDS.nextLong());
        StringBuilder request = new StringBuilder("{\"id\":\"" + id + "\",\"call\":" + FrancPlain.quote(name) + ",\"args\":[");
        try {
            for (int i = 0; i < args.length; i++) {
                if (i > 0) request.append(',');
                request.append(FrancPlain.toJson(args[i]));
            }
        } catch (FrancPlain.NotPlain notPlain) {
            throw new IllegalArgumentException("franc: an argument has no plain form: " + notPlain.getMessage());
        }
        request.append("]}");
        Map<String, Object> answer;
        try {
            FrancPlain.writeFrame(REQUESTS, request.toString());
            String frame = FrancPlain.readFrame(ANSWERS);
            if (frame == null) throw new CandidateGone("the candidate's process ended");
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = (Map<String, Object>) FrancPlain.parse(frame);
            answer = parsed;
        } catch (CandidateGone gone) {
            throw gone;
        } catch (Exception broken) {
            throw new CandidateGone("the channel broke: " + broken);
        }
        if (!id.equals(answer.get("id"))) throw new CandidateGone("an answer to another call");
        if (answer.containsKey("missing")) throw new CandidateGone("missing method: " + answer.get("missing"));
        if (answer.containsKey("raised")) throw rebuild((Map<?, ?>) answer.get("raised"));
        if (answer.containsKey("unserialisable")) {
            throw new IllegalStateException("franc: the result has no plain form: " + answer.get("unserialisable"));
        }
        try {
            return FrancPlain.convert(answer.get("value"), declared.getGenericReturnType());
        } catch (FrancPlain.NotPlain | RuntimeException wrong) {
            throw new ClassCastException("franc: the result is no " + declared.getGenericReturnType() + ": " + wrong.getMessage());
        }
    }

    /** The candidate's exception as the same JDK type where it has a (String) constructor. */
    private static RuntimeException rebuild(Map<?, ?> raised) {
        String type = String.valueOf(raised.get("type"));
        String message = String.valueOf(raised.get("message"));
        if (type.startsWith("java.")) {
            try {
                Class<?> kind = Class.forName(type);
                if (RuntimeException.class.isAssignableFrom(kind)) {
                    return (RuntimeException) kind.getConstructor(String.class).newInstance(message.isEmpty() ? null : message);
                }
            } catch (ReflectiveOperationException | LinkageError ignored) {
                // not rebuildable: a generic one below
            }
        }
        return new RuntimeException(type + (message.isEmpty() ? "" : ": " + message));
    }
}
