package io.github.amulet4j.formats.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** The package-private test seams of the safetensors reader, for tests in other modules (this module's test jar only). */
public final class SafetensorsSeams {

    private SafetensorsSeams() {
    }

    /** Opens {@code file} mapped in chunks of {@code chunkBytes} (small chunks exercise the chunked path). */
    public static SafetensorsFile open(Path file, int chunkBytes) throws IOException {
        return SafetensorsFile.open(file, chunkBytes);
    }
}
