#include "tlm/core/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "tlm/core/data_dir.h"

namespace accelvp {

namespace {

std::string type_name(const param_spec& s) {
    switch (s.type) {
    case param_type::boolean: return "a boolean (true/false)";
    case param_type::integer: return "an integer (e.g. 4096, 0x1000, 4KiB)";
    case param_type::real: return "a number";
    case param_type::string:
        if (!s.choices.empty()) {
            std::string out = "one of";
            for (size_t i = 0; i < s.choices.size(); ++i) out += (i ? ", " : " ") + s.choices[i];
            return out;
        }
        return "a string";
    }
    return "?";
}

std::string fmt_num(double v) {
    if (std::fabs(v) < 9.0e15 && v == std::floor(v)) return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{}", v);
}

std::string range_text(const param_spec& s) {
    if (!s.min && !s.max) return "";
    return fmt::format(" in [{}, {}]", s.min ? fmt_num(*s.min) : "-inf", s.max ? fmt_num(*s.max) : "inf");
}

[[noreturn]] void bad_value(const param_spec& s, const std::string& text, const std::string& why = "") {
    throw config_error(fmt::format("config error: {} = '{}'{}: expected {}{}{}", s.key, text,
                                   why.empty() ? "" : " (" + why + ")", type_name(s), range_text(s),
                                   s.unit.empty() ? "" : " " + s.unit));
}

// Levenshtein distance, two rows. Called for every schema key on every unknown key: kept
// cheap (no allocation after the first call, no initializer-list min) and, in the fuzz
// build, out of libFuzzer's coverage: its comparisons say nothing about the input's
// structure and cost more than the parsing itself (docs/security.md, Fuzzing).
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
size_t edit_distance(const std::string& a, const std::string& b) {
    thread_local std::vector<size_t> prev, cur;
    prev.resize(b.size() + 1);
    cur.resize(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min(std::min(prev[j], cur[j - 1]) + 1, sub);
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// std::filesystem::is_regular_file without exceptions: a name the OS refuses (too long, a
// NUL byte) is "not a file", so `base:` and `-c` give a config_error naming it, not a
// filesystem_error escaping (found by fuzz_config: `base:` with a 300-byte name).
bool is_file(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec);
}

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void range_check(const param_spec& s, double v, const std::string& text) {
    if ((s.min && v < *s.min) || (s.max && v > *s.max)) bad_value(s, text, "out of range");
}

} // namespace

// ---- schema -----------------------------------------------------------------------

param_spec& param_schema::add(param_spec spec) {
    std::string key = spec.key;
    auto [it, inserted] = specs_.insert_or_assign(key, std::move(spec));
    (void)inserted;
    return it->second;
}

void param_schema::integer(const std::string& key, int64_t def, int64_t min, int64_t max,
                           const std::string& desc, const std::string& unit) {
    param_spec s;
    s.key = key;
    s.type = param_type::integer;
    s.default_value = std::to_string(def);
    s.min = static_cast<double>(min);
    s.max = static_cast<double>(max);
    s.description = desc;
    s.unit = unit;
    add(std::move(s));
}

void param_schema::real(const std::string& key, double def, double min, double max, const std::string& desc,
                        const std::string& unit) {
    param_spec s;
    s.key = key;
    s.type = param_type::real;
    s.default_value = fmt::format("{}", def);
    s.min = min;
    s.max = max;
    s.description = desc;
    s.unit = unit;
    add(std::move(s));
}

void param_schema::boolean(const std::string& key, bool def, const std::string& desc) {
    param_spec s;
    s.key = key;
    s.type = param_type::boolean;
    s.default_value = def ? "true" : "false";
    s.description = desc;
    add(std::move(s));
}

void param_schema::string(const std::string& key, const std::string& def, const std::string& desc,
                          std::vector<std::string> choices) {
    param_spec s;
    s.key = key;
    s.type = param_type::string;
    s.default_value = def;
    s.description = desc;
    s.choices = std::move(choices);
    add(std::move(s));
}

const param_spec* param_schema::find(const std::string& key) const {
    auto it = specs_.find(key);
    return it == specs_.end() ? nullptr : &it->second;
}

std::vector<std::string> param_schema::nearest(const std::string& key, size_t n) const {
    // Score: edit distance on the whole key, or on the leaf name (+2), so both
    // "dma.burst_byte" and "burst_bytes" find "dma.burst_bytes". Only close matches are
    // offered; with none, the keys of the same group are.
    std::vector<std::pair<size_t, std::string>> scored;
    const auto leaf_of = [](const std::string& k) {
        const auto dot = k.rfind('.');
        return dot == std::string::npos ? k : k.substr(dot + 1);
    };
    const auto group_of = [](const std::string& k) { return k.substr(0, k.find('.')); };
    for (const auto& [k, spec] : specs_) {
        (void)spec;
        size_t d = std::min(edit_distance(key, k), edit_distance(leaf_of(key), leaf_of(k)) + 2);
        if (k.rfind(key, 0) == 0) d = std::min<size_t>(d, 1);
        scored.emplace_back(d, k);
    }
    std::sort(scored.begin(), scored.end());
    const size_t close = std::max<size_t>(3, key.size() / 4);
    std::vector<std::string> out;
    for (const auto& [d, k] : scored)
        if (d <= close && out.size() < n) out.push_back(k);
    if (out.empty())
        for (const auto& [k, spec] : specs_)
            if (group_of(k) == group_of(key) && out.size() < 2 * n) out.push_back(k);
    for (size_t i = 0; out.empty() && i < scored.size() && i < n; ++i) out.push_back(scored[i].second);
    return out;
}

// ---- value parsing ----------------------------------------------------------------

int64_t parse_integer(const param_spec& s, const std::string& raw) {
    std::string t;
    for (char c : trim(raw))
        if (c != '_') t += c;
    if (t.empty()) bad_value(s, raw, "empty");
    bool neg = false;
    size_t pos = 0;
    if (t[0] == '-' || t[0] == '+') {
        neg = t[0] == '-';
        pos = 1;
    }
    int base = 10;
    if (t.size() > pos + 2 && t[pos] == '0' && (t[pos + 1] == 'x' || t[pos + 1] == 'X')) {
        base = 16;
        pos += 2;
    }
    size_t digits_end = pos;
    while (digits_end < t.size() &&
           (base == 16 ? std::isxdigit(static_cast<unsigned char>(t[digits_end]))
                       : std::isdigit(static_cast<unsigned char>(t[digits_end]))))
        ++digits_end;
    if (digits_end == pos) bad_value(s, raw);
    unsigned long long mag = 0;
    try {
        mag = std::stoull(t.substr(pos, digits_end - pos), nullptr, base);
    } catch (const std::exception&) {
        bad_value(s, raw, "too large");
    }
    const std::string suffix = lower(t.substr(digits_end));
    static const std::map<std::string, unsigned long long> mult = {
        {"", 1ull},           {"k", 1000ull},         {"m", 1000000ull},       {"g", 1000000000ull},
        {"kib", 1ull << 10},  {"mib", 1ull << 20},    {"gib", 1ull << 30},     {"tib", 1ull << 40},
        {"kb", 1000ull},      {"mb", 1000000ull},     {"gb", 1000000000ull},   {"tb", 1000000000000ull}};
    auto it = mult.find(suffix);
    if (it == mult.end()) bad_value(s, raw, "unknown suffix '" + t.substr(digits_end) + "'");
    if (mag > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) / it->second)
        bad_value(s, raw, "too large");
    int64_t v = static_cast<int64_t>(mag * it->second);
    if (neg) v = -v;
    range_check(s, static_cast<double>(v), raw);
    return v;
}

double parse_real(const param_spec& s, const std::string& raw) {
    const std::string t = trim(raw);
    if (t.empty()) bad_value(s, raw, "empty");
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || !std::isfinite(v)) bad_value(s, raw);
    range_check(s, v, raw);
    return v;
}

bool parse_bool(const param_spec& s, const std::string& raw) {
    const std::string t = lower(trim(raw));
    if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "0" || t == "no" || t == "off") return false;
    bad_value(s, raw);
}

std::string parse_choice(const param_spec& s, const std::string& raw) {
    const std::string t = trim(raw);
    if (!s.choices.empty() && std::find(s.choices.begin(), s.choices.end(), t) == s.choices.end())
        bad_value(s, raw);
    return t;
}

namespace {
void check_value(const param_spec& s, const std::string& text) {
    switch (s.type) {
    case param_type::boolean: parse_bool(s, text); break;
    case param_type::integer: parse_integer(s, text); break;
    case param_type::real: parse_real(s, text); break;
    case param_type::string: parse_choice(s, text); break;
    }
}

// Limits of a config file: configs are a few levels deep and a few hundred keys, so
// anything far beyond is a mistake or a hostile file (an alias that contains itself, an
// alias-expansion bomb), refused before it costs memory or stack.
constexpr size_t max_yaml_depth = 32;       // nested mappings
constexpr size_t max_yaml_nodes = 100000;   // map entries after expanding aliases
constexpr size_t max_yaml_bytes = 16 << 20; // file size
constexpr int max_base_depth = 8;           // base: chains

std::string mark_text(const YAML::Mark& m) {
    if (m.is_null()) return "";
    return fmt::format("line {}, column {}: ", m.line + 1, m.column + 1);
}

struct flatten_state {
    const std::string& origin;
    std::vector<std::pair<std::string, YAML::Node>>& out;
    std::map<std::string, YAML::Mark> seen;  // flattened key -> where it was first given
    std::vector<YAML::Node> ancestors;
    size_t nodes = 0;
};

void flatten(const YAML::Node& node, const std::string& prefix, flatten_state& st) {
    if (!node.IsMap()) {
        st.out.emplace_back(prefix, node);
        return;
    }
    for (const auto& a : st.ancestors)
        if (a.is(node))
            throw config_error(fmt::format("config error: {}: {}the value of '{}' contains itself (a YAML alias "
                                           "refers to a mapping it is part of)",
                                           st.origin, mark_text(node.Mark()), prefix));
    if (st.ancestors.size() >= max_yaml_depth)
        throw config_error(fmt::format("config error: {}: {}'{}' is nested more than {} levels deep", st.origin,
                                       mark_text(node.Mark()), prefix, max_yaml_depth));
    st.ancestors.push_back(node);
    std::map<std::string, YAML::Mark> here;  // keys of this mapping
    for (const auto& kv : node) {
        if (++st.nodes > max_yaml_nodes)
            throw config_error(fmt::format("config error: {}: more than {} keys (after expanding YAML aliases)",
                                           st.origin, max_yaml_nodes));
        const std::string k = kv.first.as<std::string>();
        const std::string key = prefix.empty() ? k : prefix + "." + k;
        if (auto [it, fresh] = here.emplace(k, kv.first.Mark()); !fresh)
            throw config_error(fmt::format("config error: {}: {}duplicate key '{}' (first given at line {})",
                                           st.origin, mark_text(kv.first.Mark()), key, it->second.line + 1));
        if (!kv.second.IsMap()) {
            auto [it, fresh] = st.seen.emplace(key, kv.first.Mark());
            if (!fresh)
                throw config_error(fmt::format("config error: {}: {}duplicate key '{}' (first given at {})",
                                               st.origin, mark_text(kv.first.Mark()), key,
                                               it->second.is_null() ? std::string("an alias")
                                                                    : fmt::format("line {}", it->second.line + 1)));
        }
        flatten(kv.second, key, st);
    }
    st.ancestors.pop_back();
}
} // namespace

// ---- config -----------------------------------------------------------------------

const param_spec& config::spec_of(const std::string& key) const {
    const param_spec* s = schema_->find(key);
    if (!s) unknown_key(key, "");
    return *s;
}

void config::unknown_key(const std::string& key, const std::string& origin) const {
    const auto near = schema_->nearest(key);
    std::string msg = fmt::format("config error: unknown key '{}'{}", key, origin.empty() ? "" : " (from " + origin + ")");
    if (!near.empty()) {
        msg += "; nearest valid keys:";
        for (size_t i = 0; i < near.size(); ++i) msg += (i ? ", " : " ") + near[i];
    }
    msg += " (see 'accelvp config --help-params')";
    throw config_error(msg);
}

void config::set(const std::string& key, const std::string& value, const std::string& origin) {
    const param_spec* s = schema_->find(key);
    if (!s) unknown_key(key, origin);
    check_value(*s, value);
    values_[key] = entry{value, origin};
}

std::string config::origin_of(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? std::string() : it->second.origin;
}

void config::set_derived(const std::string& key, const std::string& value, const std::string& reason) {
    if (is_set(key)) throw std::logic_error("set_derived: " + key + " is already set");
    set(key, value, "derived: " + reason);
}

bool config::is_derived(const std::string& key) const { return origin_of(key).rfind("derived: ", 0) == 0; }

std::string config::describe(const std::string& key) const {
    const std::string o = origin_of(key);
    return fmt::format("{}={} ({})", key, text_of(key), o.empty() ? "default" : "from " + o);
}

namespace {
// Counts documents without building them. YAML::LoadAll is not used: yaml-cpp 0.7's loops
// forever on some malformed input (found by tests/fuzz/fuzz_config), so at most two
// documents are asked for.
struct document_counter : YAML::EventHandler {
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

YAML::Node parse_yaml_document(const std::string& text, const std::string& origin) {
    if (text.size() > max_yaml_bytes)
        throw config_error(fmt::format("config error: {}: {} bytes is more than a config file may hold ({} bytes)",
                                       origin, text.size(), max_yaml_bytes));
    YAML::Node root;
    try {
        root = YAML::Load(text);
        std::istringstream in(text);
        YAML::Parser parser(in);
        document_counter counter;
        int docs = 0;
        while (docs < 2 && parser.HandleNextDocument(counter)) ++docs;
        if (docs > 1)
            throw config_error(fmt::format("config error: {}: holds more than one YAML document ('---'); a config "
                                           "file is one document",
                                           origin));
    } catch (const YAML::Exception& e) {
        throw config_error(fmt::format("config error: {}: YAML syntax error at line {}, column {}: {}", origin,
                                       e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    return root;
}
} // namespace

void config::load_yaml_text(const std::string& text, const std::string& origin) {
    std::vector<std::string> chain;
    load_yaml(text, origin, std::filesystem::current_path().string(), chain);
}

void config::load_yaml(const std::string& text, const std::string& origin, const std::string& dir,
                       std::vector<std::string>& chain) {
    const YAML::Node root = parse_yaml_document(text, origin);
    if (root.IsNull()) return;
    if (!root.IsMap()) throw config_error(fmt::format("config error: {}: top level must be a mapping of keys", origin));
    // base: PRESET-or-PATH -- start from that file, then apply this one over it.
    if (const YAML::Node base = root["base"]) {
        if (!base.IsScalar() || base.Scalar().empty())
            throw config_error(fmt::format("config error: {}: base must be a preset name or a config file path",
                                           origin));
        namespace fs = std::filesystem;
        const std::string name = base.Scalar();
        // A relative path is taken from the including file's directory first.
        const fs::path rel = fs::path(dir) / name;
        const std::string path =
            fs::path(name).is_relative() && is_file(rel) ? rel.string() : resolve_config_path(name);
        std::error_code ec;
        const std::string canon = fs::weakly_canonical(path, ec).string();
        if (std::find(chain.begin(), chain.end(), canon) != chain.end()) {
            std::string cycle;
            for (const auto& c : chain) cycle += c + " -> ";
            throw config_error(fmt::format("config error: {}: base: {} makes a cycle ({}{})", origin, name, cycle,
                                           canon));
        }
        if (static_cast<int>(chain.size()) >= max_base_depth)
            throw config_error(fmt::format("config error: {}: base: chain deeper than {} files", origin,
                                           max_base_depth));
        chain.push_back(canon);
        load_yaml(read_text_file(path), path, fs::path(path).parent_path().string(), chain);
        chain.pop_back();
    }
    std::vector<std::pair<std::string, YAML::Node>> flat;
    flatten_state st{origin, flat, {}, {}, 0};
    try {
        flatten(root, "", st);
    } catch (const YAML::Exception& e) {  // a key that is not a plain scalar ("? [a, b]")
        throw config_error(fmt::format("config error: {}: line {}, column {}: keys must be plain names ({})", origin,
                                       e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    for (const auto& [key, node] : flat) {
        if (key == "base") continue;
        if (!node.IsScalar()) {
            const param_spec* s = schema_->find(key);
            if (!s) unknown_key(key, origin);
            throw config_error(fmt::format("config error: {} (from {}): expected {}, got a list or empty value", key,
                                           origin, type_name(*s)));
        }
        set(key, node.Scalar(), origin);
    }
}

std::string config::read_text_file(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec))
        throw config_error(fmt::format("config error: config file '{}' is a directory", path));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(fmt::format("config error: cannot read config file '{}'", path));
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > max_yaml_bytes)
            throw config_error(fmt::format("config error: {}: more than {} bytes; a config file holds keys, not data",
                                           path, max_yaml_bytes));
    }
    return text;
}

void config::load_yaml_file(const std::string& path) {
    namespace fs = std::filesystem;
    const std::string text = read_text_file(path);
    std::error_code ec;
    std::vector<std::string> chain{fs::weakly_canonical(path, ec).string()};
    const fs::path parent = fs::path(path).parent_path();
    load_yaml(text, path, parent.empty() ? "." : parent.string(), chain);
}

void config::apply_override(const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw config_error(fmt::format("usage error: -p expects key=value, got '{}'", assignment));
    set(trim(assignment.substr(0, eq)), assignment.substr(eq + 1), "-p");
}

void config::validate() const {
    for (const auto& [key, e] : values_) {
        const param_spec* s = schema_->find(key);
        if (!s) unknown_key(key, e.origin);
        check_value(*s, e.text);
    }
}

std::string config::text_of(const std::string& key) const {
    auto it = values_.find(key);
    if (it != values_.end()) return it->second.text;
    return spec_of(key).default_value;
}

int64_t config::get_int(const std::string& key) const {
    const auto& s = spec_of(key);
    if (s.type != param_type::integer) throw std::logic_error("param " + key + " is not an integer");
    return parse_integer(s, text_of(key));
}

uint64_t config::get_uint(const std::string& key) const {
    const int64_t v = get_int(key);
    if (v < 0) throw std::logic_error("param " + key + " is negative");
    return static_cast<uint64_t>(v);
}

double config::get_real(const std::string& key) const {
    const auto& s = spec_of(key);
    if (s.type == param_type::integer) return static_cast<double>(parse_integer(s, text_of(key)));
    if (s.type != param_type::real) throw std::logic_error("param " + key + " is not a number");
    return parse_real(s, text_of(key));
}

bool config::get_bool(const std::string& key) const {
    const auto& s = spec_of(key);
    if (s.type != param_type::boolean) throw std::logic_error("param " + key + " is not a boolean");
    return parse_bool(s, text_of(key));
}

std::string config::get_string(const std::string& key) const {
    const auto& s = spec_of(key);
    if (s.type != param_type::string) throw std::logic_error("param " + key + " is not a string");
    return parse_choice(s, text_of(key));
}

nlohmann::json config::to_json(const std::string& prefix) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, s] : schema_->all()) {
        if (key.rfind(prefix, 0) != 0) continue;
        nlohmann::json v;
        switch (s.type) {
        case param_type::boolean: v = get_bool(key); break;
        case param_type::integer: v = get_int(key); break;
        case param_type::real: v = get_real(key); break;
        case param_type::string: v = get_string(key); break;
        }
        out[key] = v;
    }
    return out;
}

std::string config::to_yaml(const std::string& prefix) const {
    // Nested YAML with a comment per key, loadable again with -c.
    YAML::Emitter em;
    em << YAML::BeginMap;
    std::vector<std::string> open;  // current nesting path
    for (const auto& [key, s] : schema_->all()) {
        if (key.rfind(prefix, 0) != 0) continue;
        std::vector<std::string> parts;
        std::stringstream ss(key);
        for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
        size_t common = 0;
        while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
        while (open.size() > common) {
            em << YAML::EndMap;
            open.pop_back();
        }
        for (size_t i = common; i + 1 < parts.size(); ++i) {
            em << YAML::Key << parts[i] << YAML::Value << YAML::BeginMap;
            open.push_back(parts[i]);
        }
        em << YAML::Key << parts.back() << YAML::Value;
        switch (s.type) {
        case param_type::boolean: em << get_bool(key); break;
        case param_type::integer: em << get_int(key); break;
        case param_type::real: em << get_real(key); break;
        case param_type::string: em << YAML::DoubleQuoted << get_string(key); break;
        }
        em << YAML::Comment((is_derived(key) ? "[" + origin_of(key) + "] " : std::string()) + s.description +
                            (s.unit.empty() ? "" : " [" + s.unit + "]"));
    }
    while (!open.empty()) {
        em << YAML::EndMap;
        open.pop_back();
    }
    em << YAML::EndMap;
    return std::string(em.c_str()) + "\n";
}

// ---- presets ----------------------------------------------------------------------

namespace {
std::vector<std::string> config_dirs() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("ACCELVP_CONFIG_DIR")) dirs.emplace_back(env);
    if (const std::string d = data_dir(); !d.empty()) dirs.emplace_back(d + "/configs");
    return dirs;
}
} // namespace

std::string resolve_config_path(const std::string& name) {
    namespace fs = std::filesystem;
    if (is_file(name)) return name;
    for (const auto& d : config_dirs()) {
        for (const auto& cand : {d + "/" + name, d + "/" + name + ".yaml"})
            if (is_file(cand)) return cand;
    }
    std::string names;
    for (const auto& [n, desc] : list_presets()) names += (names.empty() ? "" : ", ") + n;
    throw config_error(fmt::format("config error: no config file or preset named '{}'; presets: {}", name,
                                   names.empty() ? "(none found)" : names));
}

std::vector<std::pair<std::string, std::string>> list_presets() {
    namespace fs = std::filesystem;
    std::map<std::string, std::string> found;
    for (const auto& d : config_dirs()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(d, ec)) {
            if (e.path().extension() != ".yaml") continue;
            const std::string name = e.path().stem().string();
            if (found.count(name)) continue;
            std::string desc;
            try {
                YAML::Node n = YAML::LoadFile(e.path().string());
                if (n["preset"] && n["preset"]["description"]) desc = n["preset"]["description"].as<std::string>();
            } catch (const YAML::Exception&) {
                desc = "(unreadable)";
            }
            found[name] = desc;
        }
    }
    return {found.begin(), found.end()};
}

} // namespace accelvp
