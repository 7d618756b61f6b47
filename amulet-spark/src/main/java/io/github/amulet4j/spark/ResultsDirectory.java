package io.github.amulet4j.spark;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.EvalUsageException;
import io.github.amulet4j.eval.EvalSettings;
import io.github.amulet4j.eval.EvalSummary;
import io.github.amulet4j.eval.RowKey;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The output of a Spark eval run: a directory of JSON-lines part files (Parquet files when its name ends in
 * {@code .parquet}: one column per row field, {@link #PARQUET_SCHEMA}), each committed whole by Spark's output
 * committer (a task's file appears only when the task succeeded, once, whatever retries and speculative copies ran),
 * and the run's settings next to it ({@code <out>.settings.json}, as {@code eval} records them). A row's key is
 * (index, method, preference); the settings are the same for every row of the directory.
 */
final class ResultsDirectory {

    private static final List<String> SUMMARY_FIELDS = List.of("index", "method", "preference", "question",
            "new_tokens", "seconds", EvalSummary.COPY_OF);

    /** The columns of Parquet output: {@code eval}'s row fields. */
    static final String PARQUET_SCHEMA = "index INT, method STRING, preference STRING, preference_text STRING, "
            + "question STRING, text STRING, token_ids ARRAY<INT>, model STRING, prompt_tokens INT, new_tokens INT, "
            + "finish_reason STRING, seconds DOUBLE, tokens_per_second DOUBLE, batch INT, copy_of STRING";

    private final SparkSession spark;
    private final String location;
    private final Path dir;
    private final Path settingsFile;
    private final FileSystem fs;
    private final boolean parquet;

    ResultsDirectory(SparkSession spark, String location) throws IOException {
        this.spark = spark;
        this.location = location;
        this.dir = new Path(location);
        this.settingsFile = new Path(dir.getParent(), dir.getName() + ".settings.json");
        this.fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
        this.parquet = dir.getName().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet");
        if (fs.exists(dir) && !fs.getFileStatus(dir).isDirectory()) {
            throw new EvalUsageException("--out: " + location + " is a file; with --spark, --out names a directory of"
                    + " JSON-lines part files (give another --out)");
        }
    }

    /** Appends rows (JSON lines) through Spark's file committer. */
    void append(Dataset<String> rows) {
        if (parquet) {
            spark.read().schema(PARQUET_SCHEMA).json(rows).write().mode(SaveMode.Append).parquet(location);
        } else {
            rows.write().mode(SaveMode.Append).text(location);
        }
    }

    /** Every line of the directory, whole (Parquet rows as JSON); empty when it holds no part file. */
    Dataset<String> lines() throws IOException {
        if (!hasPartFiles()) {
            return spark.emptyDataset(Encoders.STRING());
        }
        return parquet ? spark.read().parquet(location).toJSON() : spark.read().textFile(location);
    }

    /** Where the rows are. */
    String location() {
        return location;
    }

    /** The settings file. */
    Path settingsFile() {
        return settingsFile;
    }

    /** Deletes the rows and the recorded settings (a new run). */
    void delete() throws IOException {
        fs.delete(dir, true);
        fs.delete(settingsFile, false);
    }

    /** The recorded settings, if any. */
    Optional<EvalSettings> recordedSettings() throws IOException {
        if (!fs.exists(settingsFile)) {
            return Optional.empty();
        }
        try (InputStream in = fs.open(settingsFile)) {
            return Optional.of(EvalSettings.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    settingsFile.toString()));
        } catch (IllegalArgumentException e) {
            throw new EvalUsageException("--out: " + e.getMessage() + "; give --overwrite to start a new run", e);
        }
    }

    /** Records the settings (replacing the file). */
    void writeSettings(EvalSettings settings) throws IOException {
        Path tmp = new Path(settingsFile.getParent(), settingsFile.getName() + ".tmp");
        try (FSDataOutputStream o = fs.create(tmp, true)) {
            o.write(settings.text().getBytes(StandardCharsets.UTF_8));
        }
        fs.delete(settingsFile, false);
        if (!fs.rename(tmp, settingsFile)) {
            throw new IOException("could not rename " + tmp + " to " + settingsFile);
        }
    }

    /**
     * The rows of the directory, one per key (the first found): generated {@code base} rows whole (they are copied
     * for other preferences), the others with their key and summary fields only.
     */
    Map<RowKey, JsonObject> rows() throws IOException {
        Map<RowKey, JsonObject> out = new LinkedHashMap<>();
        if (!hasPartFiles()) {
            return out;
        }
        Dataset<String> all = parquet ? spark.read().parquet(location).toJSON() : spark.read().textFile(location);
        List<String> lines = all.map((MapFunction<String, String>) ResultsDirectory::slim, Encoders.STRING()).collectAsList();
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            JsonObject row = JsonParser.parseString(line).getAsJsonObject();
            out.putIfAbsent(new RowKey(row.get("index").getAsInt(), row.get("method").getAsString(),
                    row.get("preference").getAsString()), row);
        }
        return out;
    }

    private boolean hasPartFiles() throws IOException {
        if (!fs.exists(dir)) {
            return false;
        }
        for (FileStatus s : fs.listStatus(dir)) {
            String name = s.getPath().getName();
            if (s.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** On the executors: a row reduced to what the driver needs; an empty string for a blank line. */
    private static String slim(String line) {
        if (line.isBlank()) {
            return "";
        }
        JsonObject row;
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("a line of the results is not a JSON object: " + abbreviate(line));
            }
            row = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("a line of the results is not valid JSON: " + abbreviate(line), e);
        }
        if (!row.has("index") || !row.has("method") || !row.has("preference")) {
            throw new IllegalArgumentException("a row of the results lacks \"index\", \"method\" or \"preference\": "
                    + abbreviate(line));
        }
        if (AlignmentMethod.BASE.id().equals(row.get("method").getAsString()) && !row.has(EvalSummary.COPY_OF)) {
            return line;
        }
        JsonObject slim = new JsonObject();
        for (String f : SUMMARY_FIELDS) {
            JsonElement v = row.get(f);
            if (v != null) {
                slim.add(f, v);
            }
        }
        return slim.toString();
    }

    private static String abbreviate(String line) {
        return line.length() <= 120 ? line : line.substring(0, 120) + "...";
    }
}
