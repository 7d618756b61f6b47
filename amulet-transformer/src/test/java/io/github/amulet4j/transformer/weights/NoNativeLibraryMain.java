package io.github.amulet4j.transformer.weights;

/**
 * Run by {@link NativeKernelsTest} in a child JVM with {@code -Damulet.native.disable=true}: prints what a JVM without
 * the native library resolves and describes, and whether NATIVE is refused with the reason.
 */
public final class NoNativeLibraryMain {

    private NoNativeLibraryMain() {
    }

    public static void main(String[] args) {
        System.out.println("available=" + NativeKernels.available());
        System.out.println("auto=" + Kernels.AUTO.resolve());
        System.out.println("describe=" + Kernels.AUTO.describe(WeightFormat.Q8_0));
        try {
            Kernels.NATIVE.resolve();
            System.out.println("native=accepted");
        } catch (IllegalStateException e) {
            System.out.println("native=refused: " + e.getMessage());
        }
        WeightMatrix m = WeightMatrix.of(WeightFormat.Q4_0, new float[64], 2, 32);
        System.out.println("nativeProduct=" + m.nativeProduct(1));
    }
}
