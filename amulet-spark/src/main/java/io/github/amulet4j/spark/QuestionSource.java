package io.github.amulet4j.spark;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.amulet4j.eval.EvalPlan;
import io.github.amulet4j.eval.EvalUsageException;
import io.github.amulet4j.eval.Question;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the question set of a Spark eval run on the driver: the paper's JSON array (read as {@code eval} reads it),
 * JSON lines ({@code .jsonl}, {@code .ndjson}: one {@code {"index": N, "question": "..."}} per line) or Parquet
 * ({@code .parquet} or a folder: integer column {@code index}, string column {@code question}), from any file system
 * Spark reads. {@code --limit} keeps the first N questions.
 */
final class QuestionSource {

    private QuestionSource() {
    }

    static List<Question> read(SparkSession spark, EvalPlan plan) throws IOException {
        String path = plan.dataset();
        String lower = path.toLowerCase(Locale.ROOT);
        List<Question> all;
        if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) {
            all = jsonLines(spark, path);
        } else if (lower.endsWith(".parquet") || isDirectory(spark, path)) {
            all = parquet(spark, path);
        } else {
            return plan.questions(); // the paper's JSON array, with eval's checks and --limit
        }
        if (plan.limit().isPresent()) {
            all = all.subList(0, Math.min(plan.limit().getAsInt(), all.size()));
        }
        if (all.isEmpty()) {
            throw new EvalUsageException("--dataset: " + path + " holds no questions");
        }
        return all;
    }

    private static boolean isDirectory(SparkSession spark, String path) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        return fs.exists(p) && fs.getFileStatus(p).isDirectory();
    }

    private static List<Question> jsonLines(SparkSession spark, String path) {
        List<String> lines = spark.read().textFile(path).collectAsList();
        List<Question> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = "--dataset: " + path + ", line " + (i + 1);
            JsonElement e;
            try {
                e = JsonParser.parseString(line);
            } catch (JsonParseException ex) {
                throw new EvalUsageException(where + " is not valid JSON (expected {\"index\": N, \"question\": \"...\"})", ex);
            }
            if (!e.isJsonObject()) {
                throw new EvalUsageException(where + ": expected an object with \"index\" and \"question\"");
            }
            JsonObject o = e.getAsJsonObject();
            JsonElement index = o.get("index");
            if (index == null || !index.isJsonPrimitive() || !index.getAsJsonPrimitive().isNumber()
                    || index.getAsDouble() != Math.rint(index.getAsDouble())
                    || Math.abs(index.getAsDouble()) > Integer.MAX_VALUE) {
                throw new EvalUsageException(where + ": \"index\" must be an integer");
            }
            JsonElement question = o.get("question");
            if (question == null || !question.isJsonPrimitive() || !question.getAsJsonPrimitive().isString()) {
                throw new EvalUsageException(where + ": \"question\" must be a string");
            }
            out.add(question(where, index.getAsInt(), question.getAsString(), seen));
        }
        return out;
    }

    private static List<Question> parquet(SparkSession spark, String path) {
        Dataset<Row> table = spark.read().parquet(path);
        StructType schema = table.schema();
        DataType indexType = type(schema, "index", path);
        DataType questionType = type(schema, "question", path);
        if (!(indexType.equals(DataTypes.IntegerType) || indexType.equals(DataTypes.LongType)
                || indexType.equals(DataTypes.ShortType))) {
            throw new EvalUsageException("--dataset: " + path + ": column \"index\" must be an integer column, found "
                    + indexType.simpleString());
        }
        if (!questionType.equals(DataTypes.StringType)) {
            throw new EvalUsageException("--dataset: " + path + ": column \"question\" must be a string column, found "
                    + questionType.simpleString());
        }
        List<Row> rows = table.select("index", "question").collectAsList();
        List<Question> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String where = "--dataset: " + path + ", row " + i;
            if (r.isNullAt(0) || r.isNullAt(1)) {
                throw new EvalUsageException(where + ": \"index\" and \"question\" must not be null");
            }
            long index = ((Number) r.get(0)).longValue();
            if (Math.abs(index) > Integer.MAX_VALUE) {
                throw new EvalUsageException(where + ": \"index\" " + index + " is out of range");
            }
            out.add(question(where, (int) index, r.getString(1), seen));
        }
        return out;
    }

    private static DataType type(StructType schema, String column, String path) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(column)) {
                return f.dataType();
            }
        }
        throw new EvalUsageException("--dataset: " + path + " has no column \"" + column + "\" (expected \"index\" and"
                + " \"question\")");
    }

    private static Question question(String where, int index, String text, Set<Integer> seen) {
        if (!seen.add(index)) {
            throw new EvalUsageException(where + ": duplicate index " + index + " (indices key the result rows)");
        }
        return new Question(index, text);
    }
}
