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
 * candidate class loads, System.out is pointed at stderr so prints cannot reach it. The
 * call id of a request lives only in a local variable here, out of reach of reflection.
 */
public final class FrancCallee {
    private FrancCallee() {}

    public static void main(String[] args) throws Exception {
        InputStream requests = new FileInputStream(FileDescriptor.in);
        OutputStream answers = new FileOutputStream(FileDescriptor.out);
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        System.setIn(new java.io.ByteArrayInputStream(new byte[0]));
        String className = args[0];
        while (true) {
            String frame = FrancPlain.readFrame(requests);
            if (frame == null) return;
            @SuppressWarnings("unchecked")
            Map<String, Object> request = (Map<String, Object>) FrancPlain.parse(frame);
            String id = (String) request.get("id");
            String answer;
            if (request.containsKey("test")) {
                answer = runTest((String) request.get("test"));
            } else {
                @SuppressWarnings("unchecked")
                List<Object> callArgs = (List<Object>) request.get("args");
                answer = call(className, (String) request.get("call"), callArgs);
            }
            FrancPlain.writeFrame(answers, "{\"id\":" + FrancPlain.quote(id) + "," + answer + "}");
        }
    }

    static String raised(Throwable error) {
        String message = error.getMessage() == null ? "" : error.getMessage();
        if (message.length() > 2000) message = message.substring(0, 2000);
        return "\"raised\":{\"type\":" + FrancPlain.quote(error.getClass().getName())
                + ",\"message\":" + FrancPlain.quote(message) + "}";
    }

    private static String call(String className, String name, List<Object> args) {
        Method method;
        Object[] values;
        try {
            method = find(Class.forName(className), name, args.size());
            values = new Object[args.size()];
            java.lang.reflect.Type[] types = method.getGenericParameterTypes();
            for (int i = 0; i < values.length; i++) values[i] = FrancPlain.convert(args.get(i), types[i]);
        } catch (Throwable error) {
            return "\"missing\":" + FrancPlain.quote(error.toString());
        }
        Object result;
        String[] before = containers(values);
        try {
            method.setAccessible(true);
            result = method.invoke(null, values);
        } catch (InvocationTargetException thrown) {
            return raised(thrown.getCause());
        } catch (Throwable error) {
            return raised(error);
        }
        try {
            return "\"value\":" + FrancPlain.toJson(result) + changed(before, containers(values));
        } catch (FrancPlain.NotPlain notPlain) {
            return "\"unserialisable\":" + FrancPlain.quote(notPlain.getMessage());
        } catch (Throwable error) {
            return "\"unserialisable\":" + FrancPlain.quote(error.toString());
        }
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
            return raised(thrown.getCause());
        } catch (Throwable error) {
            return raised(error);
        }
        return "\"value\":null";
    }
}
