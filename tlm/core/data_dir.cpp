#include "tlm/core/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <dlfcn.h>
#include <link.h>

namespace accelvp {

namespace fs = std::filesystem;

namespace {

std::mutex& lock() {
    static std::mutex m;
    return m;
}
std::string& chosen() {
    static std::string d;
    return d;
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

// The directory named the way it was given, made absolute (symbolic links are kept: a build
// tree's share/accelvp/configs is a link into the source tree).
std::string absolute(const std::string& p) {
    std::error_code ec;
    fs::path a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

std::string find_next_to_binary() {
    const std::string self = self_binary();
    if (self.empty()) return "";
    fs::path dir = fs::path(self).parent_path();
    for (int up = 0; up < 4 && dir.has_parent_path() && dir != dir.root_path(); ++up) {
        dir = dir.parent_path();
        const fs::path cand = dir / "share" / "accelvp";
        if (is_dir(cand / "configs")) return cand.string();
    }
    return "";
}

} // namespace

std::string self_binary() {
    // The object (executable or shared library) that holds this function.
    Dl_info info{};
    link_map* lm = nullptr;
    if (dladdr1(reinterpret_cast<void*>(&self_binary), &info, reinterpret_cast<void**>(&lm), RTLD_DL_LINKMAP) != 0 &&
        lm != nullptr && lm->l_name != nullptr && lm->l_name[0] != '\0') {
        std::error_code ec;
        const fs::path p = fs::canonical(lm->l_name, ec);
        if (!ec) return p.string();
    }
    // The main program (its link map has no name).
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.string();
}

void set_data_dir(const std::string& dir) {
    std::lock_guard<std::mutex> g(lock());
    chosen() = dir.empty() ? dir : absolute(dir);
}

std::string data_dir() {
    {
        std::lock_guard<std::mutex> g(lock());
        if (!chosen().empty()) return chosen();
    }
    if (const char* env = std::getenv("ACCELVP_DATA_DIR"); env != nullptr && *env != '\0') return absolute(env);
    static const std::string found = find_next_to_binary();
    return found;
}

std::string default_firmware_path() {
    if (const char* env = std::getenv("ACCELVP_FIRMWARE"); env != nullptr && *env != '\0') return env;
    const std::string d = data_dir();
    if (d.empty()) return "";
    std::error_code ec;
    const fs::path p = fs::canonical(fs::path(d) / "firmware" / "accelvp-fw.elf", ec);
    return ec || !fs::is_regular_file(p, ec) ? std::string() : p.string();
}

} // namespace accelvp
