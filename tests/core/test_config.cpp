// Unit tests of the typed, range-checked configuration (tlm/core/config.h) and of the
// presets in configs/ against the real platform schema.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "platform/sim/simulation.h"
#include "platform/soc/soc.h"
#include "tlm/core/config.h"
#include "tlm/core/build_paths.h"

using accelvp::config;
using accelvp::config_error;
using accelvp::param_schema;
using accelvp::param_spec;
using accelvp::param_type;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

// A small schema with one parameter of each kind and a few near-miss names.
const param_schema& test_schema() {
    static const param_schema s = [] {
        param_schema p;
        p.integer("dma.burst_bytes", 4096, 64, 1 << 20, "largest single bus transaction", "bytes");
        p.integer("dma.max_outstanding", 16, 1, 256, "bursts in flight at once");
        p.real("dma.bandwidth_gbps", 128, 0.1, 100000, "engine datapath throughput", "GB/s");
        p.integer("mem.size", 1ll << 30, 4096, 1ll << 46, "capacity", "bytes");
        p.integer("sim.offset", -8, -1000, 1000, "a signed integer");
        p.real("sim.temperature", -1.5, -100, 100, "a signed real");
        p.boolean("sim.verbose", false, "chatty output");
        p.boolean("sim.check", true, "verify results");
        p.string("sim.mode", "functional", "fidelity", {"functional", "timing"});
        p.string("preset.name", "custom", "name of this configuration");
        p.string("preset.description", "", "one-line description");
        return p;
    }();
    return s;
}

const param_spec& spec(const std::string& key) {
    const param_spec* s = test_schema().find(key);
    REQUIRE(s != nullptr);
    return *s;
}

// Runs f and returns the message of the config_error it throws; fails the test if it
// throws nothing or anything else.
template <typename F>
std::string config_error_of(F&& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected accelvp::config_error, got another exception: " << e.what());
    } catch (...) {
        FAIL("expected accelvp::config_error, got a non-std exception");
    }
    FAIL("expected accelvp::config_error, nothing was thrown");
    return {};
}

std::string preset_dir() { return std::string(ACCELVP_SOURCE_DIR) + "/configs"; }

} // namespace

// ---- error paths -----------------------------------------------------------------

TEST_CASE("config: an unknown key names the key and suggests the nearest valid keys", "[config]") {
    config c(test_schema());

    const std::string from_p = config_error_of([&] { c.apply_override("dma.burst_byte=4096"); });
    CHECK_THAT(from_p, StartsWith("config error: unknown key 'dma.burst_byte' (from -p)"));
    CHECK_THAT(from_p, Contains("nearest valid keys: dma.burst_bytes"));

    const std::string from_yaml =
        config_error_of([&] { c.load_yaml_text("dma:\n  burst_byts: 1024\n", "my.yaml"); });
    CHECK_THAT(from_yaml, Contains("unknown key 'dma.burst_byts' (from my.yaml)"));
    CHECK_THAT(from_yaml, Contains("nearest valid keys: dma.burst_bytes"));

    const std::string from_get = config_error_of([&] { (void)c.get_int("mem.sise"); });
    CHECK_THAT(from_get, Contains("unknown key 'mem.sise'"));
    CHECK_THAT(from_get, Contains("nearest valid keys: mem.size"));

    CHECK_FALSE(c.is_set("dma.burst_bytes"));  // nothing was stored by the failed sets
}

TEST_CASE("config: nearest() ranks typos, prefixes and bare leaf names first", "[config]") {
    const auto& s = test_schema();
    REQUIRE_FALSE(s.nearest("dma.burst_byte").empty());
    CHECK(s.nearest("dma.burst_byte").front() == "dma.burst_bytes");
    CHECK(s.nearest("dma.burst").front() == "dma.burst_bytes");        // prefix
    CHECK(s.nearest("burst_bytes").front() == "dma.burst_bytes");      // leaf without group
    CHECK(s.nearest("sim.mdoe").front() == "sim.mode");
    CHECK(s.nearest("dma.max_outstandng", 1) == std::vector<std::string>{"dma.max_outstanding"});
    // Something is always suggested, and only declared keys.
    for (const char* k : {"x", "dma.zzzzzzzzzzzz", "totally.unrelated.key"}) {
        INFO("key " << k);
        const auto near = s.nearest(k);
        CHECK_FALSE(near.empty());
        for (const auto& n : near) CHECK(s.find(n) != nullptr);
    }
}

TEST_CASE("config: a value of the wrong type names the key, the value and the expected type", "[config]") {
    config c(test_schema());

    const std::string integer = config_error_of([&] { c.apply_override("dma.burst_bytes=lots"); });
    CHECK_THAT(integer, Contains("dma.burst_bytes = 'lots'"));
    CHECK_THAT(integer, Contains("expected an integer"));
    CHECK_THAT(integer, Contains("in [64, 1048576]"));
    CHECK_THAT(integer, EndsWith("bytes"));

    const std::string boolean = config_error_of([&] { c.apply_override("sim.verbose=maybe"); });
    CHECK_THAT(boolean, Contains("sim.verbose = 'maybe'"));
    CHECK_THAT(boolean, Contains("expected a boolean (true/false)"));

    const std::string real = config_error_of([&] { c.apply_override("dma.bandwidth_gbps=fast"); });
    CHECK_THAT(real, Contains("dma.bandwidth_gbps = 'fast'"));
    CHECK_THAT(real, Contains("expected a number in [0.1, 100000] GB/s"));

    const std::string fraction = config_error_of([&] { c.apply_override("dma.max_outstanding=2.5"); });
    CHECK_THAT(fraction, Contains("dma.max_outstanding = '2.5'"));
    CHECK_THAT(fraction, Contains("expected an integer"));

    const std::string empty = config_error_of([&] { c.apply_override("dma.max_outstanding="); });
    CHECK_THAT(empty, Contains("dma.max_outstanding = ''"));
    CHECK_THAT(empty, Contains("(empty)"));

    const std::string inf = config_error_of([&] { c.apply_override("sim.temperature=inf"); });
    CHECK_THAT(inf, Contains("sim.temperature = 'inf'"));

    const std::string in_yaml = config_error_of([&] { c.load_yaml_text("sim:\n  verbose: maybe\n", "t.yaml"); });
    CHECK_THAT(in_yaml, Contains("sim.verbose = 'maybe'"));
    CHECK_THAT(in_yaml, Contains("expected a boolean"));

    CHECK_FALSE(c.is_set("dma.burst_bytes"));
    CHECK_FALSE(c.is_set("sim.verbose"));
    CHECK(c.get_int("dma.burst_bytes") == 4096);
}

TEST_CASE("config: values below the minimum or above the maximum are out of range", "[config]") {
    config c(test_schema());

    const std::string below = config_error_of([&] { c.apply_override("dma.burst_bytes=32"); });
    CHECK_THAT(below, Contains("dma.burst_bytes = '32' (out of range)"));
    CHECK_THAT(below, Contains("in [64, 1048576] bytes"));

    const std::string above = config_error_of([&] { c.apply_override("dma.burst_bytes=2MiB"); });
    CHECK_THAT(above, Contains("dma.burst_bytes = '2MiB' (out of range)"));
    CHECK_THAT(above, Contains("in [64, 1048576]"));

    const std::string negative = config_error_of([&] { c.apply_override("dma.max_outstanding=-1"); });
    CHECK_THAT(negative, Contains("dma.max_outstanding = '-1' (out of range)"));
    CHECK_THAT(negative, Contains("in [1, 256]"));

    const std::string real_low = config_error_of([&] { c.apply_override("dma.bandwidth_gbps=0.05"); });
    CHECK_THAT(real_low, Contains("dma.bandwidth_gbps = '0.05' (out of range)"));
    CHECK_THAT(real_low, Contains("in [0.1, 100000]"));

    const std::string real_high = config_error_of([&] { c.apply_override("sim.temperature=100.5"); });
    CHECK_THAT(real_high, Contains("sim.temperature = '100.5' (out of range)"));
    CHECK_THAT(real_high, Contains("in [-100, 100]"));

    const std::string huge = config_error_of([&] { c.apply_override("mem.size=99999999999999999999999"); });
    CHECK_THAT(huge, Contains("mem.size"));
    CHECK_THAT(huge, Contains("too large"));

    const std::string overflow = config_error_of([&] { c.apply_override("mem.size=9000000TiB"); });
    CHECK_THAT(overflow, Contains("mem.size = '9000000TiB' (too large)"));

    // The bounds themselves are accepted.
    c.apply_override("dma.burst_bytes=64");
    CHECK(c.get_int("dma.burst_bytes") == 64);
    c.apply_override("dma.burst_bytes=1MiB");
    CHECK(c.get_int("dma.burst_bytes") == 1 << 20);
    c.apply_override("sim.temperature=-100");
    CHECK(c.get_real("sim.temperature") == -100.0);
}

TEST_CASE("config: a string outside its choices lists the choices", "[config]") {
    config c(test_schema());
    const std::string msg = config_error_of([&] { c.apply_override("sim.mode=fast"); });
    CHECK_THAT(msg, Contains("sim.mode = 'fast'"));
    CHECK_THAT(msg, Contains("expected one of functional, timing"));

    // Choices are case-sensitive and exact.
    CHECK_THAT(config_error_of([&] { c.apply_override("sim.mode=Timing"); }), Contains("one of functional, timing"));

    c.apply_override("sim.mode=timing");
    CHECK(c.get_string("sim.mode") == "timing");
    c.apply_override("sim.mode= functional ");  // surrounding blanks are trimmed
    CHECK(c.get_string("sim.mode") == "functional");

    // A string without choices takes anything.
    c.apply_override("preset.description=anything at all = fine");
    CHECK(c.get_string("preset.description") == "anything at all = fine");
}

TEST_CASE("config: an unknown size suffix is rejected and named", "[config]") {
    config c(test_schema());
    const std::string msg = config_error_of([&] { c.apply_override("mem.size=4XiB"); });
    CHECK_THAT(msg, Contains("mem.size = '4XiB' (unknown suffix 'XiB')"));
    CHECK_THAT(msg, Contains("expected an integer (e.g. 4096, 0x1000, 4KiB)"));

    CHECK_THAT(config_error_of([&] { c.apply_override("mem.size=4KiBB"); }), Contains("unknown suffix 'KiBB'"));
    CHECK_THAT(config_error_of([&] { c.apply_override("mem.size=1e9"); }), Contains("unknown suffix 'e9'"));
    CHECK_THAT(config_error_of([&] { c.apply_override("mem.size=KiB"); }), Contains("mem.size = 'KiB'"));
    CHECK_THAT(config_error_of([&] { c.apply_override("mem.size=-"); }), Contains("mem.size = '-'"));
    CHECK_FALSE(c.is_set("mem.size"));
}

TEST_CASE("config: a YAML syntax error reports the origin and the line number", "[config]") {
    config c(test_schema());
    const std::string msg =
        config_error_of([&] { c.load_yaml_text("dma:\n  burst_bytes: 4096\n bad_indent: 1\n", "broken.yaml"); });
    CHECK_THAT(msg, StartsWith("config error: broken.yaml: YAML syntax error at line 3"));

    const std::string flow =
        config_error_of([&] { c.load_yaml_text("sim:\n  mode: timing\n  verbose: [true\n", "flow.yaml"); });
    CHECK_THAT(flow, Contains("flow.yaml: YAML syntax error at line 4"));

    const std::string inline_map = config_error_of([&] { c.load_yaml_text("a: b: c\n", "inline.yaml"); });
    CHECK_THAT(inline_map, Contains("inline.yaml: YAML syntax error at line 1"));
}

TEST_CASE("config: a YAML list or empty value where a scalar is expected names the key and the type",
          "[config]") {
    config c(test_schema());
    const std::string list =
        config_error_of([&] { c.load_yaml_text("dma:\n  burst_bytes: [1024, 2048]\n", "list.yaml"); });
    CHECK_THAT(list, Contains("dma.burst_bytes (from list.yaml)"));
    CHECK_THAT(list, Contains("expected an integer"));
    CHECK_THAT(list, Contains("got a list or empty value"));

    const std::string block_list =
        config_error_of([&] { c.load_yaml_text("sim:\n  mode:\n    - functional\n    - timing\n", "b.yaml"); });
    CHECK_THAT(block_list, Contains("sim.mode (from b.yaml): expected one of functional, timing"));
    CHECK_THAT(block_list, Contains("got a list or empty value"));

    const std::string empty = config_error_of([&] { c.load_yaml_text("sim:\n  verbose:\n", "e.yaml"); });
    CHECK_THAT(empty, Contains("sim.verbose (from e.yaml): expected a boolean"));

    // A list under an unknown key is reported as an unknown key.
    const std::string unknown = config_error_of([&] { c.load_yaml_text("dma:\n  bursts: [1]\n", "u.yaml"); });
    CHECK_THAT(unknown, Contains("unknown key 'dma.bursts' (from u.yaml)"));

    // The top level must be a mapping.
    const std::string top = config_error_of([&] { c.load_yaml_text("- a\n- b\n", "top.yaml"); });
    CHECK_THAT(top, Contains("top.yaml: top level must be a mapping"));
    CHECK_FALSE(c.is_set("dma.burst_bytes"));
}

TEST_CASE("config: a YAML mapping key that is not a scalar is a config_error", "[config]") {
    config c(test_schema());
    const std::string msg = config_error_of([&] { c.load_yaml_text("? [dma, burst_bytes]\n: 1\n", "key.yaml"); });
    CHECK_THAT(msg, Contains("key.yaml"));
    CHECK_THAT(msg, Contains("line 1"));
}

TEST_CASE("config: -p without '=' or without a key is a usage error", "[config]") {
    config c(test_schema());
    CHECK_THAT(config_error_of([&] { c.apply_override("dma.burst_bytes"); }),
               Contains("-p expects key=value, got 'dma.burst_bytes'"));
    CHECK_THAT(config_error_of([&] { c.apply_override("=4096"); }), Contains("-p expects key=value, got '=4096'"));
    CHECK_THAT(config_error_of([&] { c.apply_override(""); }), Contains("-p expects key=value, got ''"));
    // Blanks around the key are trimmed; the value may contain '='.
    c.apply_override(" dma.burst_bytes =8KiB");
    CHECK(c.get_int("dma.burst_bytes") == 8192);
}

TEST_CASE("config: a missing config file or unknown preset is a config_error listing the presets", "[config]") {
    config c(test_schema());
    const std::string missing = config_error_of([&] { c.load_yaml_file("/nonexistent/dir/none.yaml"); });
    CHECK_THAT(missing, Contains("cannot read config file '/nonexistent/dir/none.yaml'"));

    const std::string preset = config_error_of([] { (void)accelvp::resolve_config_path("no-such-preset"); });
    CHECK_THAT(preset, Contains("no config file or preset named 'no-such-preset'"));
    CHECK_THAT(preset, Contains("presets: "));
    CHECK_THAT(preset, Contains("edge"));
    CHECK_THAT(preset, Contains("inference"));
    CHECK_THAT(preset, Contains("training"));

    // The same through load_config, as the CLI uses it.
    const param_schema schema = accelvp::build_schema("dma-copy");
    accelvp::run_options o;
    o.config = "no-such-preset";
    CHECK_THAT(config_error_of([&] { (void)accelvp::load_config(schema, o); }),
               Contains("no config file or preset named 'no-such-preset'"));
}

TEST_CASE("config: validate() reports values whose key left the schema", "[config]") {
    param_schema small;
    small.integer("a.x", 1, 0, 10, "x");
    config c(test_schema());
    c.apply_override("dma.burst_bytes=128");
    c.validate();  // fine against its own schema
    c.rebind(small);
    CHECK(&c.schema() == &small);
    CHECK_THAT(config_error_of([&] { c.validate(); }), Contains("unknown key 'dma.burst_bytes' (from -p)"));
}

// ---- valid parsing -----------------------------------------------------------------

TEST_CASE("config: integers parse decimal, hex, separators, signs and size suffixes", "[config]") {
    const auto& s = spec("mem.size");
    CHECK(accelvp::parse_integer(s, "4096") == 4096);
    CHECK(accelvp::parse_integer(s, "  8192  ") == 8192);
    CHECK(accelvp::parse_integer(s, "+8192") == 8192);
    CHECK(accelvp::parse_integer(s, "0x1000") == 0x1000);
    CHECK(accelvp::parse_integer(s, "0X1f00") == 0x1f00);
    CHECK(accelvp::parse_integer(s, "0xdead_beef") == 0xdeadbeefll);
    CHECK(accelvp::parse_integer(s, "1_000_000") == 1000000);
    CHECK(accelvp::parse_integer(s, "4KiB") == 4096);
    CHECK(accelvp::parse_integer(s, "4kib") == 4096);
    CHECK(accelvp::parse_integer(s, "3MiB") == 3ll << 20);
    CHECK(accelvp::parse_integer(s, "96GiB") == 96ll << 30);
    CHECK(accelvp::parse_integer(s, "2TiB") == 2ll << 40);
    CHECK(accelvp::parse_integer(s, "0x10MiB") == 16ll << 20);
    CHECK(accelvp::parse_integer(s, "5K") == 5000);
    CHECK(accelvp::parse_integer(s, "5k") == 5000);
    CHECK(accelvp::parse_integer(s, "7M") == 7000000);
    CHECK(accelvp::parse_integer(s, "2G") == 2000000000);
    CHECK(accelvp::parse_integer(s, "2GB") == 2000000000);
    CHECK(accelvp::parse_integer(s, "1_024_KiB") == 1ll << 20);

    const auto& signed_spec = spec("sim.offset");
    CHECK(accelvp::parse_integer(signed_spec, "-1000") == -1000);
    CHECK(accelvp::parse_integer(signed_spec, "-0x10") == -16);
    CHECK(accelvp::parse_integer(signed_spec, "-1K") == -1000);
    CHECK(accelvp::parse_integer(signed_spec, "0") == 0);

    // Through a config, with the value kept as given and parsed on every get.
    config c(test_schema());
    c.apply_override("sim.offset=-0x20");
    c.apply_override("mem.size=0x4000_0000");
    CHECK(c.get_int("sim.offset") == -32);
    CHECK(c.get_uint("mem.size") == (1ull << 30));
    CHECK(c.get_real("mem.size") == static_cast<double>(1ull << 30));  // integers read as reals too
}

TEST_CASE("config: booleans accept true/false, yes/no, on/off and 1/0 in any case", "[config]") {
    const auto& s = spec("sim.verbose");
    for (const char* t : {"true", "TRUE", "True", "yes", "YES", "on", "On", "1", " yes "}) {
        INFO("text '" << t << "'");
        CHECK(accelvp::parse_bool(s, t) == true);
    }
    for (const char* f : {"false", "FALSE", "no", "No", "off", "OFF", "0", "\toff\n"}) {
        INFO("text '" << f << "'");
        CHECK(accelvp::parse_bool(s, f) == false);
    }
    for (const char* bad : {"maybe", "2", "y", "n", "", "truee"}) {
        INFO("text '" << bad << "'");
        CHECK_THROWS_AS(accelvp::parse_bool(s, bad), config_error);
    }

    config c(test_schema());
    c.load_yaml_text("sim:\n  verbose: yes\n  check: off\n", "b.yaml");
    CHECK(c.get_bool("sim.verbose") == true);
    CHECK(c.get_bool("sim.check") == false);
}

TEST_CASE("config: reals parse decimals, exponents and negative values", "[config]") {
    const auto& bw = spec("dma.bandwidth_gbps");
    CHECK(accelvp::parse_real(bw, "25.6") == 25.6);
    CHECK(accelvp::parse_real(bw, "2450") == 2450.0);
    CHECK(accelvp::parse_real(bw, "1e3") == 1000.0);
    CHECK(accelvp::parse_real(bw, " 0.1 ") == 0.1);
    CHECK(accelvp::parse_real(bw, "1.5E2") == 150.0);

    const auto& t = spec("sim.temperature");
    CHECK(accelvp::parse_real(t, "-1.25") == -1.25);
    CHECK(accelvp::parse_real(t, "-2.5e1") == -25.0);
    CHECK_THROWS_AS(accelvp::parse_real(t, "1.5x"), config_error);
    CHECK_THROWS_AS(accelvp::parse_real(t, "nan"), config_error);
    CHECK_THROWS_AS(accelvp::parse_real(t, ""), config_error);

    CHECK(accelvp::parse_choice(spec("sim.mode"), "timing") == "timing");
}

TEST_CASE("config: defaults are returned for keys that were never set", "[config]") {
    config c(test_schema());
    CHECK_FALSE(c.is_set("dma.burst_bytes"));
    CHECK(c.get_int("dma.burst_bytes") == 4096);
    CHECK(c.get_uint("dma.max_outstanding") == 16);
    CHECK(c.get_real("dma.bandwidth_gbps") == 128.0);
    CHECK(c.get_int("mem.size") == 1ll << 30);
    CHECK(c.get_int("sim.offset") == -8);
    CHECK(c.get_real("sim.temperature") == -1.5);
    CHECK(c.get_bool("sim.verbose") == false);
    CHECK(c.get_bool("sim.check") == true);
    CHECK(c.get_string("sim.mode") == "functional");
    CHECK(c.get_string("preset.name") == "custom");
    CHECK(c.get_string("preset.description").empty());

    // Accessors of the wrong kind are programming errors, not config errors.
    CHECK_THROWS_AS(c.get_int("sim.mode"), std::logic_error);
    CHECK_THROWS_AS(c.get_bool("dma.burst_bytes"), std::logic_error);
    CHECK_THROWS_AS(c.get_string("sim.verbose"), std::logic_error);
    CHECK_THROWS_AS(c.get_real("sim.mode"), std::logic_error);
    CHECK_THROWS_AS(c.get_uint("sim.offset"), std::logic_error);  // negative
}

TEST_CASE("config: -p overrides win over YAML values, and YAML wins over defaults", "[config]") {
    config c(test_schema());
    c.load_yaml_text("dma:\n  burst_bytes: 8KiB\n  max_outstanding: 32\nsim:\n  mode: timing\n", "base.yaml");
    CHECK(c.get_int("dma.burst_bytes") == 8192);
    CHECK(c.get_int("dma.max_outstanding") == 32);
    CHECK(c.get_string("sim.mode") == "timing");

    c.apply_override("dma.burst_bytes=16KiB");
    c.apply_override("sim.mode=functional");
    CHECK(c.get_int("dma.burst_bytes") == 16384);
    CHECK(c.get_string("sim.mode") == "functional");
    CHECK(c.get_int("dma.max_outstanding") == 32);  // untouched by -p
    CHECK(c.get_real("dma.bandwidth_gbps") == 128.0);  // default

    // The same through load_config with a real preset: edge.yaml sets dma.burst_bytes 2048.
    const param_schema schema = accelvp::build_schema("dma-copy");
    accelvp::run_options o;
    o.config = "edge";
    CHECK(accelvp::load_config(schema, o).get_int("dma.burst_bytes") == 2048);
    o.overrides = {"dma.burst_bytes=1024", "mem.latency_ns=75.5"};
    o.mode = "timing";
    o.seed = 42;
    const config e = accelvp::load_config(schema, o);
    CHECK(e.get_int("dma.burst_bytes") == 1024);
    CHECK(e.get_real("mem.latency_ns") == 75.5);
    CHECK(e.get_string("sim.mode") == "timing");
    CHECK(e.get_int("sim.seed") == 42);
    CHECK(e.get_int("mem.size") == 4ll << 30);  // from edge.yaml
}

TEST_CASE("config: to_json holds every declared key with a typed value", "[config]") {
    config c(test_schema());
    c.apply_override("dma.burst_bytes=2KiB");
    c.apply_override("sim.verbose=on");
    const nlohmann::json j = c.to_json();
    REQUIRE(j.is_object());
    CHECK(j.size() == test_schema().all().size());
    for (const auto& [key, s] : test_schema().all()) {
        INFO("key " << key);
        REQUIRE(j.contains(key));
        switch (s.type) {
        case param_type::integer: CHECK(j[key].is_number_integer()); break;
        case param_type::real: CHECK(j[key].is_number_float()); break;
        case param_type::boolean: CHECK(j[key].is_boolean()); break;
        case param_type::string: CHECK(j[key].is_string()); break;
        }
    }
    CHECK(j["dma.burst_bytes"].get<int64_t>() == 2048);
    CHECK(j["sim.verbose"].get<bool>() == true);
    CHECK(j["sim.check"].get<bool>() == true);
    CHECK(j["sim.offset"].get<int64_t>() == -8);
    CHECK(j["sim.temperature"].get<double>() == -1.5);
    CHECK(j["sim.mode"].get<std::string>() == "functional");

    const nlohmann::json dma = c.to_json("dma.");
    CHECK(dma.size() == 3);
    CHECK(dma.contains("dma.burst_bytes"));
    CHECK(dma.contains("dma.max_outstanding"));
    CHECK(dma.contains("dma.bandwidth_gbps"));
}

TEST_CASE("config: to_yaml output loads back to the same values", "[config]") {
    config c(test_schema());
    c.apply_override("dma.burst_bytes=0x4000");
    c.apply_override("dma.bandwidth_gbps=0.1");
    c.apply_override("mem.size=96GiB");
    c.apply_override("sim.offset=-999");
    c.apply_override("sim.temperature=-33.333333333333336");
    c.apply_override("sim.verbose=yes");
    c.apply_override("sim.check=0");
    c.apply_override("sim.mode=timing");
    c.apply_override("preset.description=Card: 96 GiB # not a comment, \"quoted\"");
    const std::string yaml = c.to_yaml();
    INFO(yaml);
    CHECK_THAT(yaml, Contains("largest single bus transaction [bytes]"));  // description as comment

    config back(test_schema());
    back.load_yaml_text(yaml, "dump.yaml");
    CHECK(back.to_json() == c.to_json());
    CHECK(back.get_int("mem.size") == 96ll << 30);
    CHECK(back.get_real("sim.temperature") == -33.333333333333336);
    CHECK(back.get_string("preset.description") == "Card: 96 GiB # not a comment, \"quoted\"");
    CHECK(back.get_bool("sim.check") == false);

    // Defaults (including an empty string) round-trip as well.
    config defaults(test_schema());
    config defaults_back(test_schema());
    defaults_back.load_yaml_text(defaults.to_yaml(), "defaults.yaml");
    CHECK(defaults_back.to_json() == defaults.to_json());

    // A prefix dump holds only that group and still loads.
    config part(test_schema());
    const std::string sim_yaml = c.to_yaml("sim.");
    CHECK_THAT(sim_yaml, !Contains("dma"));
    part.load_yaml_text(sim_yaml, "sim.yaml");
    CHECK(part.to_json("sim.") == c.to_json("sim."));
    CHECK_FALSE(part.is_set("dma.burst_bytes"));
}

// ---- presets -----------------------------------------------------------------------

TEST_CASE("config: resolve_config_path finds presets by name and files by path", "[config][presets]") {
    const std::string training = accelvp::resolve_config_path("training");
    CHECK_THAT(training, EndsWith("configs/training.yaml"));
    CHECK(std::filesystem::is_regular_file(training));
    CHECK(std::filesystem::equivalent(training, preset_dir() + "/training.yaml"));

    CHECK(std::filesystem::equivalent(accelvp::resolve_config_path("edge.yaml"), preset_dir() + "/edge.yaml"));
    const std::string by_path = preset_dir() + "/inference.yaml";
    CHECK(accelvp::resolve_config_path(by_path) == by_path);
}

TEST_CASE("config: ACCELVP_CONFIG_DIR presets are found before the source tree's", "[config][presets]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("accelvp_cfg_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    {
        std::ofstream(dir / "mine.yaml") << "preset:\n  description: \"my own preset\"\n";
        std::ofstream(dir / "edge.yaml") << "preset:\n  description: \"shadowed edge\"\n";
        std::ofstream(dir / "notes.txt") << "not a preset\n";
    }
    ::setenv("ACCELVP_CONFIG_DIR", dir.c_str(), 1);
    const std::string mine = accelvp::resolve_config_path("mine");
    const std::string edge = accelvp::resolve_config_path("edge");
    const auto presets = accelvp::list_presets();
    ::unsetenv("ACCELVP_CONFIG_DIR");
    fs::remove_all(dir);

    CHECK(mine == (dir / "mine.yaml").string());
    CHECK(edge == (dir / "edge.yaml").string());
    std::map<std::string, std::string> by_name(presets.begin(), presets.end());
    CHECK(by_name["mine"] == "my own preset");
    CHECK(by_name["edge"] == "shadowed edge");
    CHECK(by_name.count("training") == 1);
    CHECK(by_name.count("notes") == 0);
}

TEST_CASE("config: list_presets names edge, inference and training with descriptions, sorted", "[config][presets]") {
    const auto presets = accelvp::list_presets();
    std::map<std::string, std::string> by_name;
    std::vector<std::string> names;
    for (const auto& [n, d] : presets) {
        by_name[n] = d;
        names.push_back(n);
    }
    CHECK(std::is_sorted(names.begin(), names.end()));
    for (const char* n : {"edge", "inference", "training"}) {
        INFO("preset " << n);
        REQUIRE(by_name.count(n) == 1);
        CHECK_FALSE(by_name[n].empty());
    }
    CHECK_THAT(by_name["training"], StartsWith("Training card"));
    CHECK_THAT(by_name["edge"], StartsWith("Edge NPU"));
    CHECK_THAT(by_name["inference"], StartsWith("Inference data-center card"));
}

TEST_CASE("config: every preset in configs/ loads against the real platform schema", "[config][presets]") {
    namespace fs = std::filesystem;
    const param_schema schema = accelvp::build_schema("dma-copy");
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(preset_dir()))
        if (e.path().extension() == ".yaml") names.insert(e.path().stem().string());
    REQUIRE(names.count("edge") == 1);
    REQUIRE(names.count("inference") == 1);
    REQUIRE(names.count("training") == 1);

    const param_schema soc_schema = accelvp::soc_schema();
    for (const auto& name : names) {
        INFO("preset " << name);
        accelvp::run_options o;
        o.config = name;
        // An SoC preset (system.kind: soc, docs/edge.md) loads against the SoC's schema.
        const bool soc = accelvp::is_soc_config(name);
        const param_schema& sch = soc ? soc_schema : schema;
        config c(sch);
        if (soc) {
            REQUIRE_NOTHROW(c.load_yaml_file(accelvp::resolve_config_path(name)));
            REQUIRE_NOTHROW(c.validate());
        } else {
            REQUIRE_NOTHROW(c = accelvp::load_config(schema, o));
        }
        CHECK(c.get_string("preset.name") == name);
        CHECK_FALSE(c.get_string("preset.description").empty());
        // Every value of the preset reads back through the typed accessors.
        CHECK(c.to_json().size() == sch.all().size());
    }

    accelvp::run_options o;
    o.config = "training";
    const config t = accelvp::load_config(schema, o);
    CHECK(t.get_uint("mem.size") == 96ull << 30);
    CHECK(t.get_real("mem.bandwidth_gbps") == 2450.0);
    CHECK(t.get_int("pcie.lanes") == 16);
    CHECK(t.get_int("qman.rings") == 16);
    CHECK(t.get_int("host.driver.rings") == 16);
    o.config = "edge";
    const config e = accelvp::load_config(schema, o);
    CHECK(e.get_uint("mem.size") == 4ull << 30);
    CHECK(e.get_real("mem.bandwidth_gbps") == 25.6);
    CHECK(e.get_int("pcie.gen") == 3);
    o.config = "inference";
    const config i = accelvp::load_config(schema, o);
    CHECK(i.get_uint("mem.size") == 32ull << 30);
    CHECK(i.get_int("dma.burst_bytes") == 4096);

    // The dump of a loaded preset loads back to the same values.
    config back(schema);
    back.load_yaml_text(t.to_yaml(), "training-dump.yaml");
    CHECK(back.to_json() == t.to_json());
}

// ---- hostile and careless YAML (docs/security.md) ---------------------------------

TEST_CASE("config: a YAML alias that contains itself is a config_error, not a stack overflow", "[config][yaml]") {
    config c(test_schema());
    const std::string msg = config_error_of([&] { c.load_yaml_text("mem: &x {b: *x}\n", "self.yaml"); });
    CHECK_THAT(msg, StartsWith("config error: self.yaml: line 1"));
    CHECK_THAT(msg, Contains("the value of 'mem.b' contains itself"));
    const std::string deeper =
        config_error_of([&] { c.load_yaml_text("dma: &top\n  x:\n    y:\n      z: *top\n", "loop.yaml"); });
    CHECK_THAT(deeper, Contains("the value of 'dma.x.y.z' contains itself"));
}

TEST_CASE("config: an alias-expansion bomb stops at the key limit, quickly", "[config][yaml]") {
    // 10 levels of 10 aliases each: 10^10 keys if expanded.
    std::string text = "l0: &l0 {a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1, j: 1}\n";
    for (int l = 1; l < 10; ++l) {
        const std::string p = "*l" + std::to_string(l - 1);
        text += "l" + std::to_string(l) + ": &l" + std::to_string(l) + " {";
        for (char k = 'a'; k <= 'j'; ++k) text += std::string(k == 'a' ? "" : ", ") + k + ": " + p;
        text += "}\n";
    }
    config c(test_schema());
    const auto t0 = std::chrono::steady_clock::now();
    const std::string msg = config_error_of([&] { c.load_yaml_text(text, "bomb.yaml"); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(text.size() < 1000);
    CHECK_THAT(msg, Contains("bomb.yaml: more than 100000 keys (after expanding YAML aliases)"));
    CHECK(s < 5.0);
}

TEST_CASE("config: nesting deeper than 32 mappings is a config_error naming the key", "[config][yaml]") {
    std::string text, indent;
    for (int i = 0; i < 40; ++i) {
        text += indent + "k" + std::to_string(i) + ":\n";
        indent += " ";
    }
    text += indent + "leaf: 1\n";
    config c(test_schema());
    const std::string msg = config_error_of([&] { c.load_yaml_text(text, "deep.yaml"); });
    CHECK_THAT(msg, Contains("deep.yaml: line 33"));
    CHECK_THAT(msg, Contains("'k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19.k20.k21.k22.k23."
                             "k24.k25.k26.k27.k28.k29.k30.k31' is nested more than 32 levels deep"));
    // Flow style nested far deeper is refused by the YAML parser itself, also as a config_error.
    const std::string flow = config_error_of(
        [&] { c.load_yaml_text("a: " + std::string(5000, '[') + std::string(5000, ']') + "\n", "flow.yaml"); });
    CHECK_THAT(flow, StartsWith("config error: flow.yaml: YAML syntax error"));
}

TEST_CASE("config: a duplicate YAML key is a config_error naming the key and both lines", "[config][yaml]") {
    config c(test_schema());
    const std::string same_map = config_error_of(
        [&] { c.load_yaml_text("dma:\n  burst_bytes: 1024\n  burst_bytes: 2048\n", "dup.yaml"); });
    CHECK_THAT(same_map, StartsWith("config error: dup.yaml: line 3, column 3: duplicate key 'dma.burst_bytes' "
                                    "(first given at line 2)"));
    // The same parameter spelled nested and dotted.
    const std::string dotted = config_error_of(
        [&] { c.load_yaml_text("dma:\n  burst_bytes: 1024\ndma.burst_bytes: 2048\n", "dot.yaml"); });
    CHECK_THAT(dotted, Contains("dot.yaml: line 3, column 1: duplicate key 'dma.burst_bytes' (first given at line 2)"));
    // A mapping given twice (its keys would merge silently otherwise).
    const std::string twice =
        config_error_of([&] { c.load_yaml_text("sim: {mode: timing}\nsim: {verbose: true}\n", "twice.yaml"); });
    CHECK_THAT(twice, Contains("duplicate key 'sim'"));
    CHECK_FALSE(c.is_set("dma.burst_bytes"));
}

TEST_CASE("config: a second YAML document is a config_error", "[config][yaml]") {
    config c(test_schema());
    const std::string msg = config_error_of(
        [&] { c.load_yaml_text("dma:\n  burst_bytes: 1024\n---\ndma:\n  burst_bytes: 2048\n", "two.yaml"); });
    CHECK(msg == "config error: two.yaml: holds more than one YAML document ('---'); a config file is one document");
    // Found by fuzz_config: yaml-cpp's LoadAll loops forever on this; the loader stops.
    const std::string hang("!: &a,{x\" 1, \0\": }b 2\n&b {p: \333es}\n", 34);
    config h(test_schema());
    CHECK_THROWS_AS(h.load_yaml_text(hang, "hang.yaml"), config_error);
    // One document with an explicit start marker is fine.
    c.load_yaml_text("---\ndma:\n  burst_bytes: 1024\n", "one.yaml");
    CHECK(c.get_int("dma.burst_bytes") == 1024);
}

namespace {
struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& tag)
        : path(std::filesystem::temp_directory_path() / ("accelvp_" + tag + "_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};
} // namespace

TEST_CASE("config: base: starts from a preset, the file's own keys win", "[config][yaml][base]") {
    const param_schema schema = accelvp::build_schema("dma-copy");
    temp_dir d("base_preset");
    const std::string mine =
        d.write("mine.yaml", "base: training\npreset:\n  name: mine\nmem:\n  size: 8GiB\n");
    accelvp::run_options o;
    o.config = mine;
    o.overrides = {"dma.burst_bytes=8KiB"};
    const config c = accelvp::load_config(schema, o);
    o.config = "training";
    o.overrides.clear();
    const config t = accelvp::load_config(schema, o);
    CHECK(c.get_string("preset.name") == "mine");
    CHECK(c.get_uint("mem.size") == 8ull << 30);
    CHECK(c.get_int("dma.burst_bytes") == 8192);
    // Everything else is training's.
    nlohmann::json a = c.to_json(), b = t.to_json();
    for (const char* k : {"preset.name", "mem.size", "dma.burst_bytes"}) {
        a.erase(k);
        b.erase(k);
    }
    CHECK(a == b);
    CHECK(c.get_real("mem.bandwidth_gbps") == 2450.0);
}

TEST_CASE("config: base: chains by relative path; cycles and over-long chains are refused", "[config][yaml][base]") {
    temp_dir d("base_chain");
    d.write("a.yaml", "dma:\n  burst_bytes: 1024\n  max_outstanding: 4\n");
    std::filesystem::create_directories(d.path / "sub");
    d.write("sub/b.yaml", "base: ../a.yaml\ndma:\n  max_outstanding: 8\n");
    const std::string c_path = d.write("c.yaml", "base: sub/b.yaml\nsim:\n  mode: timing\n");
    config c(test_schema());
    c.load_yaml_file(c_path);
    CHECK(c.get_int("dma.burst_bytes") == 1024);
    CHECK(c.get_int("dma.max_outstanding") == 8);
    CHECK(c.get_string("sim.mode") == "timing");

    const std::string x = d.write("x.yaml", "base: y.yaml\n");
    d.write("y.yaml", "base: x.yaml\n");
    config cyc(test_schema());
    const std::string cycle = config_error_of([&] { cyc.load_yaml_file(x); });
    CHECK_THAT(cycle, Contains("base: x.yaml makes a cycle"));
    CHECK_THAT(cycle, Contains("x.yaml -> "));
    const std::string self = d.write("self.yaml", "base: self.yaml\n");
    CHECK_THAT(config_error_of([&] { config(test_schema()).load_yaml_file(self); }), Contains("makes a cycle"));

    for (int i = 0; i < 12; ++i)
        d.write("n" + std::to_string(i) + ".yaml", i == 11 ? "sim:\n  mode: timing\n"
                                                           : "base: n" + std::to_string(i + 1) + ".yaml\n");
    const std::string deep = config_error_of([&] { config(test_schema()).load_yaml_file((d.path / "n0.yaml").string()); });
    CHECK_THAT(deep, Contains("base: chain deeper than 8 files"));
    d.write("n3.yaml", "sim:\n  mode: timing\n");  // n0 -> n1 -> n2 -> n3: fine
    config ok(test_schema());
    ok.load_yaml_file((d.path / "n0.yaml").string());
    CHECK(ok.get_string("sim.mode") == "timing");

    const std::string bad = d.write("bad.yaml", "base: [a, b]\n");
    CHECK_THAT(config_error_of([&] { config(test_schema()).load_yaml_file(bad); }),
               Contains("base must be a preset name or a config file path"));
    const std::string missing = d.write("missing.yaml", "base: no-such-preset\n");
    CHECK_THAT(config_error_of([&] { config(test_schema()).load_yaml_file(missing); }),
               Contains("no config file or preset named 'no-such-preset'"));
}

TEST_CASE("config: host memory of a functional run is estimated from workload.bytes", "[config][host_memory]") {
    const param_schema schema = accelvp::build_schema("dma-copy");
    accelvp::run_options o;
    o.config = "training";
    o.overrides = {"workload.bytes=1GiB"};
    CHECK(accelvp::host_bytes_estimate(accelvp::load_config(schema, o), "dma-copy") == 2ull << 30);
    o.mode = "timing";
    CHECK(accelvp::host_bytes_estimate(accelvp::load_config(schema, o), "dma-copy") == 0);
    o.mode.reset();
    o.overrides = {"workload.bytes=200GiB"};  // more than mem.size: the device refuses it at once
    CHECK(accelvp::host_bytes_estimate(accelvp::load_config(schema, o), "dma-copy") == 0);
    o.overrides = {"workload.bytes=16GiB", "sim.host_memory_check=false"};
    const config big = accelvp::load_config(schema, o);
    CHECK(accelvp::host_bytes_estimate(big, "dma-copy") == 32ull << 30);
    CHECK_NOTHROW(accelvp::check_host_memory(big, "dma-copy"));  // the check is off
}

TEST_CASE("config: a multi-chip system runs the control cores on the interpreter unless cpu.engine is set",
          "[config][host_memory]") {
    // Each chip would translate the same firmware with the JIT (docs/links.md, scale).
    accelvp::run_options o;
    o.config = "training";
    o.workload = "collective";
    o.overrides = {"system.chips=4"};
    const param_schema schema = accelvp::build_schema("collective");
    const config c = accelvp::load_config(schema, o);
    CHECK(c.get_string("cpu.engine") == "interp");
    CHECK(c.is_derived("cpu.engine"));
    o.overrides = {"system.chips=4", "cpu.engine=jit"};
    CHECK(accelvp::load_config(schema, o).get_string("cpu.engine") == "jit");
    o.workload = "dma-copy";
    o.overrides = {};
    const param_schema one = accelvp::build_schema("dma-copy");
    CHECK_FALSE(accelvp::load_config(one, o).is_derived("cpu.engine"));
    // The host-memory estimate of a 4096-chip system: 2 MiB a chip + 224 B x chips^2.
    o.workload = "collective";
    o.overrides = {"system.chips=4096"};
    o.mode = "timing";
    CHECK(accelvp::host_bytes_estimate(accelvp::load_config(schema, o), "collective") ==
          4096ull * (2ull << 20) + 224ull * 4096 * 4096);
}

// Found by fuzz_config: a `base:` name the OS refuses (longer than NAME_MAX) made
// std::filesystem::is_regular_file throw filesystem_error past the config loader.
TEST_CASE("config: base: a name the OS refuses is a config error naming it, not a filesystem exception",
          "[config][yaml][base]") {
    const std::string name(300, 'x');
    config c(test_schema());
    const std::string err = config_error_of([&] { c.load_yaml_text("base: " + name + "\n", "fuzz.yaml"); });
    CHECK_THAT(err, Contains("no config file or preset named '" + name + "'"));
    config c2(test_schema());
    CHECK_THAT(config_error_of([&] { c2.load_yaml_text("base: a/" + name + "/b\n", "fuzz.yaml"); }),
               Contains("no config file or preset named 'a/" + name + "/b'"));
}
