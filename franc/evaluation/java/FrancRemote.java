package franc;

/**
 * The base of the trusted side's stand-ins for JDK objects that live in the candidate's
 * process (files, paths, streams a test makes for the candidate: see FrancRemoteGen). A
 * stand-in holds only the number of its object in that process's handle table; every
 * method call goes over the channel. It has no plain form, so it equals only itself.
 */
public abstract class FrancRemote {
    /**
     * The JDK type a generated stand-in stands for: a class's, or an interface's the test
     * implements (an HTTP handler), whose objects the test lends as that JDK interface.
     */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
    public @interface StandsFor {
        String value();
    }

    /** A handle number, as the generated stand-ins' constructors pass it on. */
    public static final class Id {
        final long value;
        final java.util.function.Consumer<FrancRemote> made;

        Id(long value, java.util.function.Consumer<FrancRemote> made) {
            this.value = value;
            this.made = made;
        }
    }

    private final long handle;

    /** Made for handle {@code id}, and known by it from now on (one stand-in per object). */
    protected FrancRemote(Id id) {
        this.handle = id.value;
        id.made.accept(this);
    }

    final long handle() { return handle; }

    @Override
    public final boolean equals(Object other) { return this == other; }

    @Override
    public final int hashCode() { return System.identityHashCode(this); }
}
