// Where a build or an installation keeps its data, found at run time (nothing of the build
// machine is compiled in): the presets (configs/), the control-core firmware
// (firmware/accelvp-fw.elf), the Python tools (tools/) and the benchmark suites (benchmarks/).
//
// Layout: <prefix>/bin/accelvp and <prefix>/share/accelvp/{configs,firmware,tools,benchmarks}.
// A build tree has the same layout (build/bin/accelvp, build/share/accelvp/ holding links into
// the source tree and to build/firmware/), and so does an installation (cmake --install, the
// .deb). docs/embedding.md, "Finding the data".
#pragma once

#include <string>

namespace accelvp {

// The data directory, first of:
//   1. set_data_dir() (the CLI's --data-dir, an embedding program's choice),
//   2. $ACCELVP_DATA_DIR,
//   3. share/accelvp next to the executable or shared library holding this code: the first of
//      <dir>/../share/accelvp, <dir>/../../share/accelvp, ... (4 levels) that has configs/,
//      where <dir> is the directory of that executable (/proc/self/exe) or library (dladdr:
//      the Python module in <prefix>/lib/python3/dist-packages/accelvp/).
// "" when there is none (an embedding program without an installation: presets are then
// found only through $ACCELVP_CONFIG_DIR or by file name).
std::string data_dir();
void set_data_dir(const std::string& dir);

// The executable or shared library that holds this code (absolute; "" if unknown).
std::string self_binary();

// The default control-core firmware ELF (host.driver.firmware's default): $ACCELVP_FIRMWARE,
// else <data_dir>/firmware/accelvp-fw.elf when it exists (its canonical path), else "".
std::string default_firmware_path();

} // namespace accelvp
