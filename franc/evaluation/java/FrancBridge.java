package franc;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;

/**
 * The trusted end for Java tests: the test's class runs against a stub of the candidate's
 * class whose methods call {@link #call}, which forwards plain-data arguments to the
 * sandboxed FrancCallee and returns the plain-data result as the declared type. It runs in
 * the warm trusted FrancChecker JVM, whose System.out is stderr (the test's own prints).
 */
public final class FrancBridge {
    private static InputStream answers;
    private static OutputStream requests;
    private static final java.util.Random IDS = new java.security.SecureRandom();

    private FrancBridge() {}

    /**
     * Run the test class's main against the candidate on this channel (each job loads
     * this class afresh, see FrancChecker); the exception it throws is the verdict.
     */
    public static void run(String testClass, InputStream answerStream, OutputStream requestStream)
            throws Throwable {
        answers = answerStream;
        requests = requestStream;
        Method main = Class.forName(testClass).getMethod("main", String[].class);
        main.setAccessible(true);
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (java.lang.reflect.InvocationTargetException thrown) {
            throw thrown.getCause();
        }
    }

    /** The candidate's process ended or broke the channel (not an Exception: tests catch those). */
    public static final class CandidateGone extends Error {
        public CandidateGone(String message) { super(message); }
    }

    /** Stand-ins by handle number, so that one object of the candidate's process is one here. */
    private static final Map<Long, FrancRemote> STOOD = new java.util.HashMap<>();

    public static Object call(Class<?> stub, String name, Object[] args) {
        Method declared = null;
        for (Method method : stub.getDeclaredMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == args.length) declared = method;
        }
        Class<?> returned = declared.getReturnType();
        boolean stood = FrancRemote.class.isAssignableFrom(returned);
        Map<String, Object> answer = ask("\"call\":" + FrancPlain.quote(name) + (stood ? ",\"wrap\":true" : ""), args);
        if (answer.containsKey("missing")) throw new CandidateGone("missing method: " + answer.get("missing"));
        checkRaised(answer);
        if (answer.get("args") instanceof List) {
            List<?> changed = (List<?>) answer.get("args");
            java.lang.reflect.Type[] types = declared.getGenericParameterTypes();
            for (int i = 0; i < Math.min(changed.size(), args.length); i++) {
                if (changed.get(i) == null) continue;
                try {
                    copyInto(args[i], changed.get(i), types[i]);
                } catch (FrancPlain.NotPlain | ClassCastException wrong) {
                    throw new ClassCastException("franc: argument " + i + " came back as no " + types[i] + ": " + wrong.getMessage());
                }
            }
        }
        if (returned == void.class) return null;
        if (stood) return standIn(answer, returned);
        try {
            return FrancPlain.convert(answer.get("value"), declared.getGenericReturnType());
        } catch (FrancPlain.NotPlain | RuntimeException wrong) {
            throw new ClassCastException("franc: the result is no " + declared.getGenericReturnType() + ": " + wrong.getMessage());
        }
    }

    /**
     * A JDK object made in the candidate's process on the test's behalf (a stand-in's
     * constructor): its handle, for the stand-in to keep.
     */
    public static FrancRemote.Id construct(String type, String[] params, Object[] args) {
        Map<String, Object> answer = ask(remoteRequest(null, type, "<init>", params), args);
        checkRaised(answer);
        return new FrancRemote.Id(handleOf(answer));
    }

    /**
     * A JDK method of a stand-in ({@code target}, null for a static one) run on the real
     * object in the candidate's process: a stand-in of {@code standIn} for what it returns,
     * or (standIn null) the plain result as the JDK method declares it.
     */
    public static Object remote(FrancRemote target, String type, String name, String[] params, Object[] args,
            Class<?> standIn) {
        Map<String, Object> answer = ask(remoteRequest(target, type, name, params)
                + (standIn != null ? ",\"wrap\":true" : ""), args);
        checkRaised(answer);
        if (standIn != null) return standIn(answer, standIn);
        java.lang.reflect.Type declared;
        try {
            Class<?>[] classes = new Class<?>[params.length];
            for (int i = 0; i < params.length; i++) classes[i] = classNamed(params[i]);
            declared = Class.forName(type, false, ClassLoader.getPlatformClassLoader())
                    .getMethod(name, classes).getGenericReturnType();
            if (declared == void.class) return null;
            return FrancPlain.convert(answer.get("value"), declared);
        } catch (FrancPlain.NotPlain | ReflectiveOperationException | RuntimeException wrong) {
            throw new ClassCastException("franc: the result of " + name + " has no plain form: " + wrong.getMessage());
        }
    }

    private static Class<?> classNamed(String name) throws ClassNotFoundException {
        switch (name) {
            case "int": return int.class;
            case "long": return long.class;
            case "boolean": return boolean.class;
            case "byte": return byte.class;
            case "short": return short.class;
            case "char": return char.class;
            case "float": return float.class;
            case "double": return double.class;
            default: return Class.forName(name, false, ClassLoader.getPlatformClassLoader());
        }
    }

    private static String remoteRequest(FrancRemote target, String type, String name, String[] params) {
        StringBuilder out = new StringBuilder("\"remote\":{\"class\":").append(FrancPlain.quote(type))
                .append(",\"member\":").append(FrancPlain.quote(name)).append(",\"target\":")
                .append(target == null ? "null" : Long.toString(target.handle())).append(",\"params\":[");
        for (int i = 0; i < params.length; i++) out.append(i > 0 ? "," : "").append(FrancPlain.quote(params[i]));
        return out.append("]}").toString();
    }

    private static long handleOf(Map<String, Object> answer) {
        if (answer.containsKey("missing")) throw new IllegalStateException("franc: " + answer.get("missing"));
        if (!(answer.get("handle") instanceof Number)) {
            throw new IllegalStateException("franc: no handle came back: " + answer.keySet());
        }
        return ((Number) answer.get("handle")).longValue();
    }

    /** The stand-in of class {@code type} for the handle in {@code answer} (null for null). */
    private static Object standIn(Map<String, Object> answer, Class<?> type) {
        if (answer.containsKey("value") && answer.get("value") == null) return null;
        long handle = handleOf(answer);
        FrancRemote known = STOOD.get(handle);
        if (known != null && type.isInstance(known)) return known;
        try {
            java.lang.reflect.Constructor<?> make = type.getDeclaredConstructor(FrancRemote.Id.class);
            make.setAccessible(true);
            FrancRemote made = (FrancRemote) make.newInstance(new FrancRemote.Id(handle));
            STOOD.put(handle, made);
            return made;
        } catch (ReflectiveOperationException broken) {
            throw new IllegalStateException("franc: cannot stand in for a " + type.getName() + ": " + broken);
        }
    }

    /** One request (its fields after the id, then the arguments) and its answer. */
    private static Map<String, Object> ask(String fields, Object[] args) {
        String id = Long.toHexString(IDS.nextLong()) + Long.toHexString(IDS.nextLong());
        StringBuilder request = new StringBuilder("{\"id\":\"" + id + "\"," + fields + ",\"args\":[");
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
            FrancPlain.writeFrame(requests, request.toString());
            String frame = FrancPlain.readFrame(answers);
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
        if (answer.get("printed") instanceof String) {
            System.out.print((String) answer.get("printed"));
            System.out.flush();
        }
        return answer;
    }

    /** Throws what the candidate's side raised; refuses a result with no plain form or member. */
    private static void checkRaised(Map<String, Object> answer) {
        if (answer.containsKey("missing")) throw new IllegalStateException("franc: " + answer.get("missing"));
        if (answer.containsKey("raised")) throw FrancBridge.<RuntimeException>sneaky(rebuild((Map<?, ?>) answer.get("raised")));
        if (answer.containsKey("unserialisable")) {
            throw new IllegalStateException("franc: the result has no plain form: " + answer.get("unserialisable"));
        }
    }

    /**
     * A change the candidate made to an argument in place, made to the test's own object:
     * arrays element by element (nested arrays of the same length in place), collections
     * and maps by replacing their content (an immutable one throws, as it would have there).
     */
    @SuppressWarnings("unchecked")
    private static void copyInto(Object target, Object plain, java.lang.reflect.Type type) throws FrancPlain.NotPlain {
        if (target != null && target.getClass().isArray()) {
            List<?> items = (List<?>) plain;
            if (items.size() != java.lang.reflect.Array.getLength(target)) throw new FrancPlain.NotPlain("another length");
            Class<?> element = target.getClass().getComponentType();
            for (int i = 0; i < items.size(); i++) {
                Object inner = java.lang.reflect.Array.get(target, i);
                if (inner != null && inner.getClass().isArray() && items.get(i) instanceof List
                        && ((List<?>) items.get(i)).size() == java.lang.reflect.Array.getLength(inner)) {
                    copyInto(inner, items.get(i), element);
                } else {
                    java.lang.reflect.Array.set(target, i, FrancPlain.convert(items.get(i), element));
                }
            }
        } else if (target instanceof java.util.Collection) {
            java.util.Collection<Object> collection = (java.util.Collection<Object>) target;
            java.util.Collection<?> fresh = (java.util.Collection<?>) FrancPlain.convert(plain, type);
            collection.clear();
            collection.addAll(fresh);
        } else if (target instanceof Map) {
            Map<Object, Object> map = (Map<Object, Object>) target;
            Map<?, ?> fresh = (Map<?, ?>) FrancPlain.convert(plain, type);
            map.clear();
            map.putAll(fresh);
        }
    }

    /**
     * The candidate's exception as the same JDK type where it has a (String) constructor,
     * checked ones too (a test catches IOException); others as a RuntimeException.
     */
    private static Exception rebuild(Map<?, ?> raised) {
        String type = String.valueOf(raised.get("type"));
        String message = String.valueOf(raised.get("message"));
        if (type.startsWith("java.") || type.startsWith("javax.")) {
            try {
                Class<?> kind = Class.forName(type, false, ClassLoader.getPlatformClassLoader());
                if (Exception.class.isAssignableFrom(kind)) {
                    return (Exception) kind.getConstructor(String.class).newInstance(message.isEmpty() ? null : message);
                }
            } catch (ReflectiveOperationException | LinkageError ignored) {
                // not rebuildable: a generic one below
            }
        }
        return new RuntimeException(type + (message.isEmpty() ? "" : ": " + message));
    }

    /** Throws {@code thrown} whether checked or not (the stub's caller sees the candidate's type). */
    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException sneaky(Throwable thrown) throws T {
        throw (T) thrown;
    }
}
