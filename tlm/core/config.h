// Hierarchical, typed, range-checked configuration.
//
// Every parameter is declared once (key, type, default, description, range or choices)
// in a schema, gem5-style. Values come from a YAML preset and `-p key=value` overrides;
// anything unknown, mistyped or out of range is a config_error that names the key, what
// was expected and the nearest valid keys. The effective configuration is dumped with
// every run so any result is reproducible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace accelvp {

// A key with its value type, for keys read outside the block that declares them
// (`c.get(chip_keys::dma_engines)`): a misspelt name or a wrong type does not compile.
// Converts to the key's name for the string-keyed API (is_set, describe, set_derived).
template <class T>
struct param_key {
    const char* name;
    operator std::string() const { return name; }
};

// A user-facing configuration or usage error (exit code 2).
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class param_type { boolean, integer, real, string };

struct param_spec {
    std::string key;
    param_type type = param_type::integer;
    std::string description;
    std::string default_value;          // textual, parsed like user input
    std::optional<double> min, max;     // for integer and real
    std::vector<std::string> choices;   // for string: allowed values (empty = any)
    std::string unit;                   // shown in help and dumps ("bytes", "GB/s", ...)
};

// The set of declared parameters. Components add theirs in a static declare() function.
class param_schema {
public:
    param_spec& add(param_spec spec);
    // Convenience declarators.
    void integer(const std::string& key, int64_t def, int64_t min, int64_t max, const std::string& desc,
                 const std::string& unit = "");
    void real(const std::string& key, double def, double min, double max, const std::string& desc,
              const std::string& unit = "");
    void boolean(const std::string& key, bool def, const std::string& desc);
    void string(const std::string& key, const std::string& def, const std::string& desc,
                std::vector<std::string> choices = {});

    const param_spec* find(const std::string& key) const;
    const std::map<std::string, param_spec>& all() const { return specs_; }
    // Keys closest to `key` by edit distance (and prefix), best first.
    std::vector<std::string> nearest(const std::string& key, size_t n = 3) const;

private:
    std::map<std::string, param_spec> specs_;
};

// Parse and validate one textual value against its spec. Throws config_error.
// Integers accept decimal, 0x hex, '_' separators and binary/decimal size suffixes
// (KiB, MiB, GiB, TiB, K, M, G).
int64_t parse_integer(const param_spec& spec, const std::string& text);
double parse_real(const param_spec& spec, const std::string& text);
bool parse_bool(const param_spec& spec, const std::string& text);
std::string parse_choice(const param_spec& spec, const std::string& text);

// Values by key, validated against a schema.
class config {
public:
    explicit config(const param_schema& schema) : schema_(&schema) {}

    // Load a YAML file: nested maps flatten to dotted keys; every value is checked
    // against the schema as it is set. One document only; duplicate keys, an alias that
    // contains itself, nesting deeper than 32 levels, more than 100 000 keys after alias
    // expansion or more than 16 MiB are config errors. A top-level `base: NAME-or-PATH`
    // loads that preset or file first (relative paths from the including file's
    // directory; chains up to 8 files deep, cycles refused).
    void load_yaml_file(const std::string& path);
    void load_yaml_text(const std::string& text, const std::string& origin);
    // "a.b.c=value"
    void apply_override(const std::string& assignment);
    void set(const std::string& key, const std::string& value, const std::string& origin);

    // Validate every value present (unknown keys, types, ranges). Throws config_error.
    void validate() const;

    int64_t get_int(const std::string& key) const;
    uint64_t get_uint(const std::string& key) const;
    double get_real(const std::string& key) const;
    bool get_bool(const std::string& key) const;
    std::string get_string(const std::string& key) const;
    // The value of a typed key (integers of any width, double, bool, std::string).
    template <class T>
    T get(const param_key<T>& key) const {
        if constexpr (std::is_same_v<T, bool>)
            return get_bool(key.name);
        else if constexpr (std::is_same_v<T, std::string>)
            return get_string(key.name);
        else if constexpr (std::is_floating_point_v<T>)
            return static_cast<T>(get_real(key.name));
        else if constexpr (std::is_unsigned_v<T>)
            return static_cast<T>(get_uint(key.name));
        else
            return static_cast<T>(get_int(key.name));
    }
    bool is_set(const std::string& key) const { return values_.count(key) != 0; }
    // Where a set value came from ("configs/edge.yaml", "-p", "derived: ..."); "" if not set.
    std::string origin_of(const std::string& key) const;
    // A value that follows from others (config_consistency.cpp): set only where the user set
    // nothing, recorded with its reason and shown as derived by dumps.
    void set_derived(const std::string& key, const std::string& value, const std::string& reason);
    bool is_derived(const std::string& key) const;
    // "key=value (from origin)" for messages that name a key and where its value came from.
    std::string describe(const std::string& key) const;

    // Rebind to a larger schema (after a workload declared its parameters).
    void rebind(const param_schema& schema) { schema_ = &schema; }
    const param_schema& schema() const { return *schema_; }

    // Effective configuration: every declared key with its value (or default).
    nlohmann::json to_json(const std::string& prefix = "") const;
    std::string to_yaml(const std::string& prefix = "") const;

private:
    struct entry {
        std::string text;
        std::string origin;  // "file.yaml" or "-p"
    };
    const param_spec& spec_of(const std::string& key) const;
    std::string text_of(const std::string& key) const;
    [[noreturn]] void unknown_key(const std::string& key, const std::string& origin) const;
    void load_yaml(const std::string& text, const std::string& origin, const std::string& dir,
                   std::vector<std::string>& chain);
    static std::string read_text_file(const std::string& path);

    const param_schema* schema_;
    std::map<std::string, entry> values_;
};

// Locate a preset by name ("training") or path ("configs/training.yaml").
// Search order: the path as given, $ACCELVP_CONFIG_DIR, the source tree's configs/.
std::string resolve_config_path(const std::string& name_or_path);
// Names and descriptions of the presets in configs/, sorted by name.
std::vector<std::pair<std::string, std::string>> list_presets();

} // namespace accelvp
