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
    public static void run(String testClass, List<?> lentClasses, List<?> replayedClasses, InputStream answerStream,
            OutputStream requestStream) throws Throwable {
        answers = answerStream;
        requests = requestStream;
        for (Object name : lentClasses) LENT_CLASSES.add((String) name);
        for (Object name : replayedClasses) REPLAYED_CLASSES.add((String) name);
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

    /** The test's objects lent to the candidate (by number), and the interface each is lent as. */
    private static final List<Object> LENT = new java.util.ArrayList<>();
    private static final List<Class<?>> LENT_AS = new java.util.ArrayList<>();

    /**
     * Plain data, or for an object without a plain form whose declared type is a public JDK
     * interface, a lent object: the candidate gets a proxy of that interface whose calls
     * come back here (callBack), so it can use the object, never reach into it.
     */
    private static String plainOrLent(Object value, Class<?> declared) throws FrancPlain.NotPlain {
        try {
            return FrancPlain.toJson(value);
        } catch (FrancPlain.NotPlain notPlain) {
            if (declared == null || !declared.isInterface()
                    || !java.lang.reflect.Modifier.isPublic(declared.getModifiers())
                    || !(declared.getClassLoader() == null || declared.getClassLoader() == ClassLoader.getPlatformClassLoader())) {
                throw notPlain;
            }
            Class<?> as = declared.isInstance(value) ? declared : standInInterface(value.getClass(), declared.getName());
            if (as == null) throw notPlain;
            int number = -1;
            for (int i = 0; i < LENT.size(); i++) {
                if (LENT.get(i) == value && LENT_AS.get(i) == as) number = i;
            }
            if (number < 0) {
                LENT.add(value);
                LENT_AS.add(as);
                number = LENT.size() - 1;
            }
            return "{\"$\":\"lent\",\"v\":" + number + ",\"i\":" + FrancPlain.quote(declared.getName()) + "}";
        }
    }

    /**
     * The stand-in interface (FrancRemoteGen's, for a JDK interface the test implements, such
     * as an HTTP handler) for the JDK interface {@code jdk} that {@code type} implements; null
     * when it implements none.
     */
    private static Class<?> standInInterface(Class<?> type, String jdk) {
        for (Class<?> up = type; up != null; up = up.getSuperclass()) {
            for (Class<?> implemented : up.getInterfaces()) {
                FrancRemote.StandsFor stands = implemented.getAnnotation(FrancRemote.StandsFor.class);
                if (stands != null && stands.value().equals(jdk)) return implemented;
            }
        }
        return null;
    }

    /**
     * The method of a stand-in interface {@code lentAs} that the candidate's call of the JDK
     * interface's method {@code name} (parameters of the JDK types in the callback) is: of that
     * name, with those parameters or the stand-ins for them.
     */
    private static Method standInMethod(Class<?> lentAs, Map<String, Object> callback) throws NoSuchMethodException {
        List<?> params = (List<?>) callback.get("params");
        for (Method method : lentAs.getMethods()) {
            Class<?>[] types = method.getParameterTypes();
            boolean same = method.getName().equals(callback.get("method")) && types.length == params.size();
            for (int i = 0; same && i < types.length; i++) {
                FrancRemote.StandsFor stands = types[i].getAnnotation(FrancRemote.StandsFor.class);
                same = (stands != null ? stands.value() : types[i].getName()).equals(params.get(i));
            }
            if (same) {
                method.setAccessible(true);  // the stand-in interface is the test's package's
                return method;
            }
        }
        throw new NoSuchMethodException("franc: no " + callback.get("method") + params + " in " + lentAs.getName());
    }

    /**
     * The test's classes it lends by name (it names them in a string, for the candidate to
     * find by reflection): the candidate's process holds stubs of them whose static methods
     * come back here, during a call (see FrancCallee.callTest).
     */
    private static final java.util.Set<String> LENT_CLASSES = new java.util.HashSet<>();

    /**
     * The candidate's call of a static method of a class the test lends by name, run here on
     * the test's class: the "value" or "raised" fields of the reply. Not its main.
     */
    private static String callLentClass(Map<String, Object> callback) {
        try {
            String name = (String) callback.get("callback");
            if (!LENT_CLASSES.contains(name)) throw new IllegalArgumentException("franc: no class lent as " + name);
            Class<?> lent = Class.forName(name, false, FrancBridge.class.getClassLoader());
            Method method = lent.getDeclaredMethod((String) callback.get("method"), parameterTypes(callback));
            if (!java.lang.reflect.Modifier.isStatic(method.getModifiers()) || method.getName().equals("main")) {
                throw new IllegalArgumentException("franc: only the static methods of a lent class, not its main");
            }
            method.setAccessible(true);
            return invoke(method, null, callback);
        } catch (Exception | LinkageError refused) {
            return FrancPlain.raised(refused);
        }
    }

    /**
     * The test's serialisable classes lent as replaying stubs: the candidate's process reads
     * their objects and sends them back here (replay). Their static methods are not lent.
     */
    private static final java.util.Set<String> REPLAYED_CLASSES = new java.util.HashSet<>();

    /** The most a replayed object's serial form may take (bytes; nested objects). */
    private static final long MAX_REPLAY_BYTES = 1 << 20;
    private static final long MAX_REPLAY_DEPTH = 2;

    /**
     * The serial form of an object of a class the test lends as a replaying stub, read in
     * the candidate's process (see FrancCallee.readBack): read here again with the test's
     * own class, so that its readObject (readResolve) runs in this JVM, on the test's state.
     * The stream may hold that class only (its fields are primitives and strings). The
     * "value" (null) or "raised" fields of the reply.
     */
    private static String replay(Map<String, Object> callback) {
        try {
            String name = (String) callback.get("callback");
            if (!REPLAYED_CLASSES.contains(name)) throw new IllegalArgumentException("franc: no class replayed as " + name);
            Class<?> lent = Class.forName(name, false, FrancBridge.class.getClassLoader());
            byte[] form = java.util.Base64.getDecoder().decode((String) callback.get("replay"));
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(form)) {
                @Override
                protected Class<?> resolveClass(java.io.ObjectStreamClass desc) throws java.io.IOException {
                    if (!desc.getName().equals(name)) throw new java.io.InvalidClassException(desc.getName(), "franc: not lent");
                    return lent;
                }

                @Override
                protected Class<?> resolveProxyClass(String[] interfaces) throws java.io.IOException {
                    throw new java.io.InvalidClassException("franc: a proxy class is not lent");
                }
            }) {
                in.setObjectInputFilter(info -> info.streamBytes() > MAX_REPLAY_BYTES || info.depth() > MAX_REPLAY_DEPTH
                        || (info.serialClass() != null && info.serialClass() != lent)
                        ? java.io.ObjectInputFilter.Status.REJECTED : java.io.ObjectInputFilter.Status.ALLOWED);
                in.readObject();
            }
            return "\"value\":null";
        } catch (CandidateGone gone) {
            throw gone;
        } catch (Throwable refused) {  // what the test's readObject threw goes to the reader
            return FrancPlain.raised(refused);
        }
    }

    private static Class<?>[] parameterTypes(Map<String, Object> callback) throws ClassNotFoundException {
        List<?> names = (List<?>) callback.get("params");
        Class<?>[] params = new Class<?>[names.size()];
        for (int i = 0; i < params.length; i++) params[i] = FrancPlain.jdkClass((String) names.get(i));
        return params;
    }

    /**
     * A call back's argument as {@code type}: plain data, or an object of the candidate's
     * process with no plain form (a handle: an HTTP exchange) where a stand-in is declared.
     */
    private static Object callBackArgument(Object plain, java.lang.reflect.Type type) throws FrancPlain.NotPlain {
        if (!(plain instanceof Map && "handle".equals(((Map<?, ?>) plain).get("$")))) return FrancPlain.convert(plain, type);
        if (!(type instanceof Class && FrancRemote.class.isAssignableFrom((Class<?>) type))) {
            throw new FrancPlain.NotPlain("an argument has no plain form");
        }
        return standIn(Map.of("handle", ((Map<?, ?>) plain).get("v")), (Class<?>) type);
    }

    /** {@code method} on {@code target} with the callback's plain arguments: the reply's fields. */
    private static String invoke(Method method, Object target, Map<String, Object> callback) throws Exception {
        List<?> args = (List<?>) callback.get("args");
        java.lang.reflect.Type[] types = method.getGenericParameterTypes();
        Object[] values = new Object[types.length];
        if (args.size() != values.length) throw new IllegalArgumentException("franc: " + args.size() + " arguments");
        for (int i = 0; i < values.length; i++) values[i] = callBackArgument(args.get(i), types[i]);
        Object result;
        try {
            result = method.invoke(target, values);
        } catch (java.lang.reflect.InvocationTargetException thrown) {
            return FrancPlain.raised(thrown.getCause());
        }
        return "\"value\":" + (method.getReturnType() == void.class ? "null" : plainOrLent(result, method.getReturnType()));
    }

    /**
     * The candidate's call of an interface method on a lent object, run here on the test's
     * object: the "value" (plain or lent again) or "raised" fields of the reply.
     */
    private static String callBack(Map<String, Object> callback) {
        if (callback.get("callback") instanceof String) {
            return callback.containsKey("replay") ? replay(callback) : callLentClass(callback);
        }
        try {
            int number = ((Number) callback.get("callback")).intValue();
            if (number < 0 || number >= LENT.size()) throw new IllegalArgumentException("franc: nothing lent as " + number);
            Class<?> as = LENT_AS.get(number);
            Method method = as.isAnnotationPresent(FrancRemote.StandsFor.class) ? standInMethod(as, callback)
                    : as.getMethod((String) callback.get("method"), parameterTypes(callback));
            if (java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                throw new IllegalArgumentException("franc: a static method is no use of a lent object");
            }
            return invoke(method, LENT.get(number), callback);
        } catch (Exception | LinkageError refused) {
            return FrancPlain.raised(refused);
        }
    }

    /** A lent object the candidate gives back is the test's own object again. */
    private static final FrancPlain.Handles BACK = new FrancPlain.Handles() {
        @Override
        public Object get(long handle) throws FrancPlain.NotPlain {
            throw new FrancPlain.NotPlain("a handle in a result");
        }

        @Override
        public Object lent(long number, String type) throws FrancPlain.NotPlain {
            if (number < 0 || number >= LENT.size()) throw new FrancPlain.NotPlain("nothing lent as " + number);
            return LENT.get((int) number);
        }
    };

    /**
     * The candidate's calls under way (nested ones too): a call back (to a lent object or
     * class) is answered only during one, whatever the candidate's process does.
     */
    private static int callsUnderWay;

    /** Stand-ins by handle number, so that one object of the candidate's process is one here. */
    private static final Map<Long, FrancRemote> STOOD = new java.util.HashMap<>();

    public static Object call(Class<?> stub, String name, Object[] args) {
        Method declared = null;
        for (Method method : stub.getDeclaredMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == args.length) declared = method;
        }
        Class<?> returned = declared.getReturnType();
        boolean stood = FrancRemote.class.isAssignableFrom(returned);
        Map<String, Object> answer;
        callsUnderWay++;
        try {
            answer = ask("\"call\":" + FrancPlain.quote(name) + (stood ? ",\"wrap\":true" : ""), args,
                    declared.getParameterTypes());
        } finally {
            callsUnderWay--;
        }
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
            return FrancPlain.convert(answer.get("value"), declared.getGenericReturnType(), BACK);
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
        long handle = handleOf(answer);
        return new FrancRemote.Id(handle, made -> STOOD.put(handle, made));
    }

    /**
     * A JDK method of a stand-in ({@code target}, null for a static one) run on the real
     * object in the candidate's process: a stand-in of {@code standIn} for what it returns,
     * or (standIn null) the plain result as the JDK method declares it.
     */
    public static Object remote(FrancRemote target, String type, String name, String[] params, Object[] args,
            Class<?> standIn) {
        Class<?>[] declared = new Class<?>[params.length];
        try {
            for (int i = 0; i < params.length; i++) declared[i] = FrancPlain.jdkClass(params[i]);
        } catch (ClassNotFoundException unknown) {
            throw new IllegalStateException("franc: " + unknown);
        }
        Map<String, Object> answer = ask(remoteRequest(target, type, name, params)
                + (standIn != null ? ",\"wrap\":true" : ""), args, declared);
        checkRaised(answer);
        if (standIn != null) return standIn(answer, standIn);
        try {
            java.lang.reflect.Type returned = Class.forName(type, false, ClassLoader.getPlatformClassLoader())
                    .getMethod(name, declared).getGenericReturnType();
            if (returned == void.class) return null;
            return FrancPlain.convert(answer.get("value"), returned, BACK);
        } catch (FrancPlain.NotPlain | ReflectiveOperationException | RuntimeException wrong) {
            throw new ClassCastException("franc: the result of " + name + " has no plain form: " + wrong.getMessage());
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
            return make.newInstance(new FrancRemote.Id(handle, made -> STOOD.put(handle, made)));
        } catch (ReflectiveOperationException broken) {
            throw new IllegalStateException("franc: cannot stand in for a " + type.getName() + ": " + broken);
        }
    }

    /** One request (its fields after the id, then the arguments) and its answer. */
    private static Map<String, Object> ask(String fields, Object[] args) {
        return ask(fields, args, null);
    }

    /**
     * One request and its answer; an argument with no plain form whose parameter is a JDK
     * interface ({@code declared}) is lent. Callbacks on lent objects that come first are
     * answered here.
     */
    private static Map<String, Object> ask(String fields, Object[] args, Class<?>[] declared) {
        String id = Long.toHexString(IDS.nextLong()) + Long.toHexString(IDS.nextLong());
        StringBuilder request = new StringBuilder("{\"id\":\"" + id + "\"," + fields + ",\"args\":[");
        try {
            for (int i = 0; i < args.length; i++) {
                if (i > 0) request.append(',');
                request.append(plainOrLent(args[i], declared == null ? null : declared[i]));
            }
        } catch (FrancPlain.NotPlain notPlain) {
            throw new IllegalArgumentException("franc: an argument has no plain form: " + notPlain.getMessage());
        }
        request.append("]}");
        Map<String, Object> answer;
        try {
            FrancPlain.writeFrame(requests, request.toString());
            while (true) {
                String frame = FrancPlain.readFrame(answers);
                if (frame == null) throw new CandidateGone("the candidate's process ended");
                @SuppressWarnings("unchecked")
                Map<String, Object> parsed = (Map<String, Object>) FrancPlain.parse(frame);
                if (!parsed.containsKey("callback")) {
                    answer = parsed;
                    break;
                }
                FrancPlain.writeFrame(requests, "{" + (callsUnderWay > 0 ? callBack(parsed)
                        : FrancPlain.raised(new IllegalStateException("franc: a lent object works only during a call"))) + "}");
            }
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
        if (answer.containsKey("raised")) throw FrancPlain.<RuntimeException>sneaky(FrancPlain.rebuild((Map<?, ?>) answer.get("raised")));
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
        } else if (target instanceof List && ((List<?>) plain).size() == ((List<?>) target).size()) {
            // Element by element, as an in-place sort does (a fixed-size Arrays.asList allows it).
            List<Object> list = (List<Object>) target;
            List<?> fresh = (List<?>) FrancPlain.convert(plain, type);
            for (int i = 0; i < fresh.size(); i++) {
                if (!java.util.Objects.equals(list.get(i), fresh.get(i))) list.set(i, fresh.get(i));
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

}
