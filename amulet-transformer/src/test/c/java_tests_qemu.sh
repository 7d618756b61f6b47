#!/usr/bin/env bash
# Runs amulet-transformer's native-kernel Java tests on an aarch64 JVM under qemu-user, with the library built for
# aarch64 (issue 26): the tests that compare every native variant with the naive product and the Java kernels, as a
# real ARM host runs them, but emulated (no speed meaning). Tests that start a child JVM fail here (qemu-user cannot
# run the child without binfmt_misc): they are listed, not counted as failures of the kernels.
#
# Needs: aarch64-linux-gnu-gcc, qemu-user, and an aarch64 root with a JDK 17 in it, e.g. on Debian bookworm:
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get download openjdk-17-jre-headless:arm64 openjdk-17-jdk-headless:arm64 zlib1g:arm64 libstdc++6:arm64 \
#       libgcc-s1:arm64
#   for d in *.deb; do dpkg -x "$d" ROOT; done; cp -a /usr/aarch64-linux-gnu/lib/* ROOT/lib/
# and the module's classes built here first (./mvnw -o -pl amulet-transformer -am test-compile, or a test run).
# Usage: amulet-transformer/src/test/c/java_tests_qemu.sh ROOT [work dir] [fully qualified test class ...]
set -euo pipefail
root=$(cd "$1" && pwd)
out=${2:-$(mktemp -d)}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
module=$(cd "$here/../../.." && pwd)
repo=$(cd "$module/.." && pwd)
arm_jdk=$(ls -d "$root"/usr/lib/jvm/java-17-openjdk-arm64)
mkdir -p "$out/res/native/linux-aarch64" "$out/launcher"
# the library as the Maven build makes it on an aarch64 machine
aarch64-linux-gnu-gcc -std=c11 -O2 -ffp-contract=off -fPIC -shared -Wall -fvisibility=hidden \
    -I"$arm_jdk/include" -I"$arm_jdk/include/linux" -o "$out/res/native/linux-aarch64/libamulet_kernels.so" \
    "$module"/src/main/c/amulet_*.c -lm
(cd "$repo" && ./mvnw -B -q -o -pl amulet-transformer dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$out/cp.txt" > /dev/null)
launcher=$(find ~/.m2/repository/org/junit/platform/junit-platform-launcher -name 'junit-platform-launcher-1.*.jar' \
    | sort -V | tail -n 1)
# the reactor's own modules, not older snapshots from the local repository
cp_deps=$(tr ':' '\n' < "$out/cp.txt" | grep -v '/io/github/amulet4j/' | paste -sd:)
reactor=$(ls -d "$repo"/amulet-*/target/classes | paste -sd:)
cat > "$out/launcher/RunTests.java" <<'JAVA'
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs the named test classes and prints one line a test: its status, name and the failure's first line. */
public class RunTests {
    public static void main(String[] args) {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        for (String a : args) {
            request.selectors(DiscoverySelectors.selectClass(a));
        }
        int[] failed = {0};
        int[] ran = {0};
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request.build(), new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult r) {
                if (id.isTest()) {
                    ran[0]++;
                    String why = r.getThrowable().map(t -> " : " + t.toString().split("\n")[0]).orElse("");
                    boolean child = why.contains("Cannot run program");
                    if (r.getStatus() != TestExecutionResult.Status.SUCCESSFUL && !child) {
                        failed[0]++;
                    }
                    System.out.println((child ? "NO-CHILD-JVM " : r.getStatus() + " ") + id.getLegacyReportingName()
                            + " " + id.getUniqueId().replaceAll(".*class:([^\\]]*).*", "$1") + why);
                }
            }
        });
        // no test found (a class named without its package) is a failure too
        boolean ok = failed[0] == 0 && ran[0] > 0;
        System.out.println((ok ? "java tests under qemu: PASSED" : "java tests under qemu: FAILED") + " (" + ran[0]
                + " tests)");
        System.exit(ok ? 0 : 1);
    }
}
JAVA
cp="$out/res:$module/target/test-classes:$module/target/classes:$reactor:$cp_deps:$launcher"
javac -d "$out/launcher" -cp "$cp" "$out/launcher/RunTests.java"
p=io.github.amulet4j.transformer
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=($p.weights.NativeKernelsTest $p.weights.NativeFloat16KernelsTest
    $p.weights.NativeFloat32KernelsTest $p.weights.KQuantKernelsTest $p.weights.InterleavedQ4KernelsTest
    $p.weights.ColumnIndependenceTest $p.NativeExpTest $p.NativeAttentionTest)
QEMU_LD_PREFIX="$root" qemu-aarch64 -cpu max "$arm_jdk/bin/java" -Xmx2g --add-modules jdk.incubator.vector \
    -cp "$cp:$out/launcher" RunTests "${tests[@]}"
