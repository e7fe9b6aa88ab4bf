// Parameters declared once: a field table per params struct.
//
// A block's parameters are the members of its `params` struct, with their defaults as
// member initializers. One table row per member names its key (relative to the block's
// prefix), the member, the range or the valid values, the unit and a one-line
// description; from the table come the schema entries (`accelvp config --dump`, `-p`
// checks, the clear "expected ... in [min, max]" errors that exit 2) and the loader
// that fills the struct from a config. Adding a parameter is one member plus one row:
//
//     struct params {
//         uint32_t burst_bytes = 4096;
//         static const param_table<params>& table();
//     };
//     const param_table<params>& params::table() {
//         static const auto t = param_table<params>()
//             .integer("burst_bytes", &params::burst_bytes, 64, 1 << 20, "largest bus transaction", "bytes");
//         return t;
//     }
//
// Keys read outside the block that declares them are typed constants (`param_key<T>`,
// see `config::get`), so a misspelt or mistyped shared key is a compile error.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tlm/core/config.h"

namespace accelvp {

// "prefix.leaf", or the leaf alone with an empty prefix (tables of absolute keys).
inline std::string param_key_join(const std::string& prefix, const std::string& leaf) {
    return prefix.empty() ? leaf : prefix + "." + leaf;
}

template <class P>
class param_table {
    // The type of the member a row's field (member pointer or accessor) names.
    template <class A>
    using member_t = std::remove_cv_t<std::remove_reference_t<std::invoke_result_t<A, P&>>>;

public:
    // Each row names its member by a member pointer (`&params::rings`) or, for a member of
    // a nested struct, by an accessor (`[](auto& p) -> auto& { return p.tlb.sets; }`).

    // An integer parameter; the member may be of any arithmetic type. Read with get_uint
    // when the range excludes negatives, else get_int.
    template <class A>
    param_table& integer(std::string leaf, A field, int64_t min, int64_t max, std::string desc,
                         std::string unit = "") {
        using M = member_t<A>;
        static_assert(std::is_arithmetic_v<M> && !std::is_same_v<M, bool>, "integer() needs a numeric member");
        rows_.push_back({std::move(leaf),
                         [field, min, max, desc = std::move(desc), unit = std::move(unit)](
                             param_schema& s, const std::string& key, const P& d) {
                             s.integer(key, static_cast<int64_t>(std::invoke(field, d)), min, max, desc, unit);
                         },
                         [field, min](const config& c, const std::string& key, P& p) {
                             std::invoke(field, p) =
                                 min >= 0 ? static_cast<M>(c.get_uint(key)) : static_cast<M>(c.get_int(key));
                         }});
        return *this;
    }

    template <class A>
    param_table& real(std::string leaf, A field, double min, double max, std::string desc, std::string unit = "") {
        using M = member_t<A>;
        static_assert(std::is_floating_point_v<M>, "real() needs a floating-point member");
        rows_.push_back({std::move(leaf),
                         [field, min, max, desc = std::move(desc), unit = std::move(unit)](
                             param_schema& s, const std::string& key, const P& d) {
                             s.real(key, static_cast<double>(std::invoke(field, d)), min, max, desc, unit);
                         },
                         [field](const config& c, const std::string& key, P& p) {
                             std::invoke(field, p) = static_cast<M>(c.get_real(key));
                         }});
        return *this;
    }

    template <class A>
    param_table& boolean(std::string leaf, A field, std::string desc) {
        static_assert(std::is_same_v<member_t<A>, bool>, "boolean() needs a bool member");
        rows_.push_back({std::move(leaf),
                         [field, desc = std::move(desc)](param_schema& s, const std::string& key, const P& d) {
                             s.boolean(key, std::invoke(field, d), desc);
                         },
                         [field](const config& c, const std::string& key, P& p) {
                             std::invoke(field, p) = c.get_bool(key);
                         }});
        return *this;
    }

    // A string member; with `choices`, only those values are valid.
    template <class A>
    param_table& string(std::string leaf, A field, std::string desc, std::vector<std::string> choices = {}) {
        static_assert(std::is_same_v<member_t<A>, std::string>, "string() needs a std::string member");
        rows_.push_back({std::move(leaf),
                         [field, desc = std::move(desc), choices = std::move(choices)](
                             param_schema& s, const std::string& key, const P& d) {
                             s.string(key, std::invoke(field, d), desc, choices);
                         },
                         [field](const config& c, const std::string& key, P& p) {
                             std::invoke(field, p) = c.get_string(key);
                         }});
        return *this;
    }

    // An enumerated member spelt as one of `names` in configs (the valid values, in the
    // order errors list them).
    template <class A>
    param_table& choice(std::string leaf, A field, std::vector<std::pair<std::string, member_t<A>>> names,
                        std::string desc) {
        std::vector<std::string> choices;
        for (const auto& n : names) choices.push_back(n.first);
        rows_.push_back({std::move(leaf),
                         [field, names, desc = std::move(desc), choices](param_schema& s, const std::string& key,
                                                                         const P& d) {
                             std::string def;
                             for (const auto& n : names)
                                 if (n.second == std::invoke(field, d)) def = n.first;
                             s.string(key, def, desc, choices);
                         },
                         [field, names](const config& c, const std::string& key, P& p) {
                             const std::string v = c.get_string(key);
                             for (const auto& n : names)
                                 if (n.first == v) std::invoke(field, p) = n.second;
                         }});
        return *this;
    }

    // Schema entries under `prefix`, with the defaults of `defaults` (a block declared
    // twice with different defaults, e.g. two memories, passes its own).
    void declare(param_schema& s, const std::string& prefix, const P& defaults = P{}) const {
        for (const auto& r : rows_) r.declare(s, param_key_join(prefix, r.leaf), defaults);
    }

    // Every row's member from `c`; members without a row keep their value in `base`.
    P load(const config& c, const std::string& prefix, P base = P{}) const {
        for (const auto& r : rows_) r.load(c, param_key_join(prefix, r.leaf), base);
        return base;
    }

    // Keys (relative to the prefix), in table order.
    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        for (const auto& r : rows_) out.push_back(r.leaf);
        return out;
    }

private:
    struct row {
        std::string leaf;
        std::function<void(param_schema&, const std::string&, const P&)> declare;
        std::function<void(const config&, const std::string&, P&)> load;
    };
    std::vector<row> rows_;
};

} // namespace accelvp
