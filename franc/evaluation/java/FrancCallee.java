package franc;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sandboxed end of the call protocol (see franc/evaluation/protocol.py): answers each
 * call on the candidate's class with plain data. stdin/stdout are the channel; before any
 * candidate class loads, System.out is pointed at a buffer so prints cannot reach it (they
 * go back with the call's answer). The
 * call id of a request lives only in a local variable here, out of reach of reflection.
 */
public final class FrancCallee {
    private FrancCallee() {}

    public static void main(String[] args) throws Exception {
        InputStream requests = new FileInputStream(FileDescriptor.in);
        OutputStream answers = new FileOutputStream(FileDescriptor.out);
        Printed printed = new Printed();
        System.setOut(new PrintStream(printed, true, "UTF-8"));
        System.setIn(new java.io.ByteArrayInputStream(new byte[0]));
        Table table = new Table(requests, answers, args[0], printed);
        lentClasses = table;
        while (true) {
            String frame = FrancPlain.readFrame(requests);
            if (frame == null) return;
            @SuppressWarnings("unchecked")
            Map<String, Object> request = (Map<String, Object>) FrancPlain.parse(frame);
            String id = (String) request.get("id");
            String answer = request.containsKey("ready") ? "\"value\":null"
                    : request.containsKey("test") ? runTest((String) request.get("test")) : serve(request, table);
            FrancPlain.writeFrame(answers, "{\"id\":" + FrancPlain.quote(id) + "," + answer + "}");
        }
    }

    /** The answer's fields (after the id) to the trusted side's call or remote request. */
    private static String serve(Map<String, Object> request, Table table) {
        @SuppressWarnings("unchecked")
        List<Object> callArgs = (List<Object>) request.get("args");
        boolean wrap = Boolean.TRUE.equals(request.get("wrap"));
        @SuppressWarnings("unchecked")
        Map<String, Object> remote = (Map<String, Object>) request.get("remote");
        String answer = remote != null ? remote(remote, callArgs, table, wrap)
                : call(table.className, (String) request.get("call"), callArgs, table, wrap);
        System.out.flush();
        String text = table.printed.drain();
        return text.isEmpty() ? answer : answer + ",\"printed\":" + FrancPlain.quote(text);
    }

    /** The exit status when a replaying stub reads an object outside the call under way. */
    private static final int UNREPLAYED = 86;

    /** The run's table, through which the stubs of the test's lent classes call back. */
    private static Table lentClasses;

    /**
     * A static method of a class the test lends by name (the candidate finds it by
     * reflection; see franc/evaluation/execution.py): the stub of it here forwards each call
     * to the test's class in the trusted JVM, during a call of the candidate only, as a
     * lent object's methods do. Its result is converted to the stub method's type.
     */
    public static Object callTest(Class<?> stub, String name, Object[] args) {
        StringBuilder frame = new StringBuilder("{\"callback\":").append(FrancPlain.quote(stub.getName()));
        try {
            return lentClasses.forward(frame, find(stub, name, args.length), args);
        } catch (Throwable thrown) {
            throw FrancPlain.<RuntimeException>sneaky(thrown);
        }
    }

    /**
     * The stub of a serialisable class the test lends (see franc/evaluation/execution.py) has
     * read {@code read} from a stream: its serial form goes back to the test's class in the
     * trusted JVM, whose own readObject runs there on it (its side effects are the test's),
     * during a call of the candidate (from any of its threads). What that readObject throws
     * is thrown here. Not sent back (read after the call, where the test cannot read it
     * again, or this class's state broken), the process ends (the call fails) rather than
     * hide what reading it would have done.
     */
    public static void readBack(Object read) {
        Map<String, Object> answer = null;
        try {
            java.io.ByteArrayOutputStream form = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(form)) {
                out.writeObject(read);
            }
            answer = lentClasses.exchange("{\"callback\":" + FrancPlain.quote(read.getClass().getName())
                    + ",\"replay\":" + FrancPlain.quote(java.util.Base64.getEncoder().encodeToString(form.toByteArray())) + "}");
        } catch (Throwable unsent) {
            answer = null;
        }
        if (answer == null) Runtime.getRuntime().halt(UNREPLAYED);
        if (answer.containsKey("raised")) throw FrancPlain.<RuntimeException>sneaky(FrancPlain.rebuild((Map<?, ?>) answer.get("raised")));
    }

    /**
     * What the candidate prints to System.out (never the channel): it goes back with each
     * call's answer, for the test's System.out; up to MAX_PRINTED bytes a call.
     */
    private static final class Printed extends OutputStream {
        private static final int MAX_PRINTED = 1 << 20;
        private final java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (buffer.size() < MAX_PRINTED) buffer.write(b);
        }

        @Override
        public synchronized void write(byte[] bytes, int offset, int length) {
            buffer.write(bytes, offset, Math.max(0, Math.min(length, MAX_PRINTED - buffer.size())));
        }

        synchronized String drain() {
            String text = new String(buffer.toByteArray(), java.nio.charset.StandardCharsets.UTF_8);
            buffer.reset();
            return text;
        }
    }

    /**
     * The objects this process keeps for the trusted side (one table per run): what a test
     * made here on its side (files, streams) and results it holds as handles.
     */
    private static final class Table implements FrancPlain.Handles {
        private final List<Object> objects = new ArrayList<>();
        private final Map<Object, Long> numbers = new java.util.IdentityHashMap<>();

        synchronized long keep(Object value) {
            return numbers.computeIfAbsent(value, kept -> {
                objects.add(kept);
                return (long) objects.size() - 1;
            });
        }

        @Override
        public synchronized Object get(long handle) throws FrancPlain.NotPlain {
            if (handle < 0 || handle >= objects.size()) throw new FrancPlain.NotPlain("no handle " + handle);
            return objects.get((int) handle);
        }

        private final InputStream requests;
        private final OutputStream answers;
        private final String className;
        private final Printed printed;
        private final Map<Long, Object> lent = new java.util.HashMap<>();
        /**
         * The calls of the candidate under way (nested ones too), guarded by this table's lock:
         * lent objects work only during one, from any of its threads (an HTTP server's handler
         * runs on the server's), one call back at a time.
         */
        private int calls;

        Table(InputStream requests, OutputStream answers, String className, Printed printed) {
            this.requests = requests;
            this.answers = answers;
            this.className = className;
            this.printed = printed;
        }

        synchronized void called(int change) {
            calls += change;
        }

        /**
         * The test's object {@code number}, lent as the JDK interface {@code type}: a proxy
         * whose interface methods call back to the trusted side, during a call only.
         */
        @Override
        public synchronized Object lent(long number, String type) throws FrancPlain.NotPlain {
            Object known = lent.get(number);
            if (known != null) return known;
            Class<?> kind;
            try {
                kind = FrancPlain.jdkClass(type);
            } catch (ClassNotFoundException notJdk) {
                throw new FrancPlain.NotPlain("no JDK interface " + type);
            }
            if (!kind.isInterface()) throw new FrancPlain.NotPlain("no interface: " + type);
            // In the application's loader, where DriverManager (say) looks its drivers up by name.
            Object proxy = java.lang.reflect.Proxy.newProxyInstance(ClassLoader.getSystemClassLoader(), new Class<?>[] {kind},
                    (self, method, args) -> callBack(self, number, method, args == null ? new Object[0] : args));
            lent.put(number, proxy);
            return proxy;
        }

        /** A lent object going back to the test: {"$":"lent"} with its number; else null. */
        synchronized String lentBack(Object value) {
            if (value == null) return null;
            for (Map.Entry<Long, Object> entry : lent.entrySet()) {
                if (entry.getValue() == value) {
                    return "{\"$\":\"lent\",\"v\":" + entry.getKey() + ",\"i\":"
                            + FrancPlain.quote(value.getClass().getInterfaces()[0].getName()) + "}";
                }
            }
            return null;
        }

        private Object callBack(Object self, long number, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                switch (method.getName()) {
                    case "equals": return self == args[0];
                    case "hashCode": return System.identityHashCode(self);
                    default: return "a lent " + self.getClass().getInterfaces()[0].getName();
                }
            }
            return forward(new StringBuilder("{\"callback\":").append(number), method, args);
        }

        /**
         * A call back to the trusted side ({@code frame}: its opening, which names what is
         * called) of {@code method} with {@code args}: its result as the method's type.
         */
        Object forward(StringBuilder frame, Method method, Object[] args) throws Throwable {
            frame.append(",\"method\":")
                    .append(FrancPlain.quote(method.getName())).append(",\"params\":")
                    .append(FrancPlain.typeNames(method.getParameterTypes())).append(",\"args\":[");
            for (int i = 0; i < args.length; i++) frame.append(i > 0 ? "," : "").append(plainOrHandle(args[i]));
            Map<String, Object> answer = exchange(frame.append("]}").toString());
            if (answer.containsKey("raised")) throw FrancPlain.rebuild((Map<?, ?>) answer.get("raised"));
            if (method.getReturnType() == void.class) return null;
            return FrancPlain.convert(answer.get("value"), method.getGenericReturnType(), this);
        }

        /**
         * One callback frame to the trusted side and its answer, during a call only, one at a
         * time; the trusted side's requests while it answers (an HTTP handler uses its
         * exchange) are served here, on the thread that waits for the answer.
         */
        synchronized Map<String, Object> exchange(String frame) throws java.io.IOException, FrancPlain.NotPlain {
            if (calls == 0) throw new IllegalStateException("franc: a lent object works only during a call");
            FrancPlain.writeFrame(answers, frame);
            while (true) {
                String reply = FrancPlain.readFrame(requests);
                if (reply == null) throw new IllegalStateException("franc: the channel closed");
                @SuppressWarnings("unchecked")
                Map<String, Object> parsed = (Map<String, Object>) FrancPlain.parse(reply);
                if (!parsed.containsKey("id")) return parsed;
                FrancPlain.writeFrame(answers, "{\"id\":" + FrancPlain.quote((String) parsed.get("id")) + ","
                        + serve(parsed, this) + "}");
            }
        }

        /** An argument of a call back: plain data, else a handle (a stand-in on the trusted side). */
        private String plainOrHandle(Object value) {
            try {
                return FrancPlain.toJson(value);
            } catch (FrancPlain.NotPlain notPlain) {
                return "{\"$\":\"handle\",\"v\":" + keep(value) + "}";
            }
        }
    }

    /** The result as plain data, or as a handle when the trusted side stands in for it. */
    private static String result(Object result, boolean wrap, Table table, String suffix) {
        String lent = table.lentBack(result);
        if (lent != null) return "\"value\":" + lent + suffix;
        if (wrap && result != null) return "\"handle\":" + table.keep(result) + suffix;
        try {
            return "\"value\":" + FrancPlain.toJson(result) + suffix;
        } catch (FrancPlain.NotPlain notPlain) {
            return "\"unserialisable\":" + FrancPlain.quote(notPlain.getMessage());
        } catch (Throwable error) {
            return "\"unserialisable\":" + FrancPlain.quote(error.toString());
        }
    }

    /**
     * A JDK constructor or method the trusted test calls on its side's objects here (a
     * FrancRemoteGen stand-in): on the object of handle "target", or static.
     */
    @SuppressWarnings("unchecked")
    private static String remote(Map<String, Object> remote, List<Object> args, Table table, boolean wrap) {
        java.lang.reflect.Executable member;
        Object target;
        Object[] values;
        try {
            Class<?> type = Class.forName((String) remote.get("class"), false, ClassLoader.getPlatformClassLoader());
            List<Object> names = (List<Object>) remote.get("params");
            Class<?>[] params = new Class<?>[names.size()];
            for (int i = 0; i < params.length; i++) {
                String name = (String) names.get(i);
                params[i] = FrancPlain.jdkClass(name);
            }
            String name = (String) remote.get("member");
            member = name.equals("<init>") ? type.getConstructor(params) : type.getMethod(name, params);
            Object handle = remote.get("target");
            target = handle == null ? null : table.get(((Number) handle).longValue());
            values = arguments(member, args, table);
        } catch (Throwable error) {
            return "\"missing\":" + FrancPlain.quote(error.toString());
        }
        Object result;
        try {
            result = member instanceof java.lang.reflect.Constructor
                    ? ((java.lang.reflect.Constructor<?>) member).newInstance(values)
                    : ((Method) member).invoke(target, values);
        } catch (InvocationTargetException thrown) {
            return FrancPlain.raised(thrown.getCause());
        } catch (Throwable error) {
            return FrancPlain.raised(error);
        }
        return result(result, wrap || member instanceof java.lang.reflect.Constructor, table, "");
    }

    private static String call(String className, String name, List<Object> args, Table table, boolean wrap) {
        Method method;
        Object[] values;
        try {
            method = find(Class.forName(className), name, args.size());
            values = arguments(method, args, table);
        } catch (Throwable error) {
            return "\"missing\":" + FrancPlain.quote(error.toString());
        }
        Object result;
        String[] before = containers(values);
        try {
            method.setAccessible(true);
            table.called(1);
            result = method.invoke(null, values);
        } catch (InvocationTargetException thrown) {
            return FrancPlain.raised(thrown.getCause());
        } catch (Throwable error) {
            return FrancPlain.raised(error);
        } finally {
            table.called(-1);
        }
        return result(result, wrap, table, changed(before, containers(values)));
    }

    /** The plain forms of the arguments a call can change in place (arrays, collections, maps). */
    private static String[] containers(Object[] values) {
        String[] forms = new String[values.length];
        for (int i = 0; i < values.length; i++) {
            Object value = values[i];
            if (value != null && (value.getClass().isArray() || value instanceof java.util.Collection
                    || value instanceof Map)) {
                try {
                    forms[i] = FrancPlain.toJson(value);
                } catch (Throwable noPlainForm) {
                    forms[i] = null;
                }
            }
        }
        return forms;
    }

    /** ,"args":[...] with the new plain form of each argument the call changed (else null). */
    private static String changed(String[] before, String[] after) {
        StringBuilder out = new StringBuilder(",\"args\":[");
        boolean any = false;
        for (int i = 0; i < after.length; i++) {
            if (i > 0) out.append(',');
            boolean moved = after[i] != null && !after[i].equals(before[i]);
            out.append(moved ? after[i] : "null");
            any |= moved;
        }
        return any ? out.append(']').toString() : "";
    }

    /** The plain arguments of a call, as the values of {@code member}'s parameter types. */
    private static Object[] arguments(java.lang.reflect.Executable member, List<Object> args, Table table)
            throws FrancPlain.NotPlain {
        Object[] values = new Object[args.size()];
        java.lang.reflect.Type[] types = member.getGenericParameterTypes();
        for (int i = 0; i < values.length; i++) values[i] = FrancPlain.convert(args.get(i), types[i], table);
        return values;
    }

    private static Method find(Class<?> type, String name, int arity) throws NoSuchMethodException {
        List<Method> found = new ArrayList<>();
        for (Method method : type.getDeclaredMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == arity
                    && Modifier.isStatic(method.getModifiers())) {
                found.add(method);
            }
        }
        if (found.size() != 1) {
            throw new NoSuchMethodException((found.isEmpty() ? "no" : "more than one") + " static "
                    + name + " with " + arity + " parameter(s) in " + type.getName());
        }
        return found.get(0);
    }

    /** A shared-process test (it needs the candidate's objects): run its main here. */
    private static String runTest(String testClass) {
        try {
            Method main = Class.forName(testClass).getMethod("main", String[].class);
            main.setAccessible(true);
            main.invoke(null, (Object) new String[0]);
        } catch (InvocationTargetException thrown) {
            return FrancPlain.raised(thrown.getCause());
        } catch (Throwable error) {
            return FrancPlain.raised(error);
        }
        return "\"value\":null";
    }
}
