// bench/integrations/host_bench.cc — peers' malloc families, fresh-process runs, the table.
#include "bench/integrations/host_bench.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace alloy_host_bench {
namespace {

template <typename Fn>
bool Lookup(void *handle, const char *symbol, Fn *out) {
  *out = reinterpret_cast<Fn>(dlsym(handle, symbol));
  return *out != nullptr;
}

bool LoadDlopened(const char *soname, const char *prefix, MallocFamily *out, std::string *why) {
  void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    *why = std::string("dlopen failed: ") + dlerror();
    return false;
  }
  std::string p = prefix;
  bool found = Lookup(handle, (p + "malloc").c_str(), &out->malloc) &&
               Lookup(handle, (p + "realloc").c_str(), &out->realloc) &&
               Lookup(handle, (p + "free").c_str(), &out->free) &&
               Lookup(handle, (p + (p.empty() ? "malloc_usable_size" : "usable_size")).c_str(), &out->usable_size);
  if (!found) {
    *why = std::string(soname) + " lacks its malloc family";
    return false;
  }
  if (p == "mi_") {
    Lookup(handle, "mi_free_size", &out->free_sized);
  } else {
    static void (*sdallocx)(void *, size_t, int) = nullptr;
    if (Lookup(handle, "sdallocx", &sdallocx)) out->free_sized = [](void *ptr, size_t size) { sdallocx(ptr, size, 0); };
  }
  return true;
}

}  // namespace

bool LoadMallocFamily(const std::string &name, MallocFamily *out, std::string *why) {
  out->name = name;
  if (name == "glibc") {
    out->malloc = ::malloc;
    out->realloc = ::realloc;
    out->free = ::free;
    out->usable_size = ::malloc_usable_size;
    return true;
  }
  if (name == "mimalloc") return LoadDlopened("libmimalloc.so.2", "mi_", out, why);
  if (name == "jemalloc") return LoadDlopened("libjemalloc.so.2", "", out, why);
  *why = "unknown malloc family " + name;
  return false;
}

double ProcessCpuSeconds() {
  struct timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

void PageInMappedFiles() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, device, path;
    unsigned long inode = 0;
    fields >> range >> perms >> offset >> device >> inode >> path;
    // Readable, backed by a file (inode 0: anonymous, the heap, the stack).
    if (inode == 0 || perms.size() < 4 || perms[0] != 'r' || path.empty() || path[0] != '/') continue;
    const size_t dash = range.find('-');
    uintptr_t begin = std::strtoull(range.substr(0, dash).c_str(), nullptr, 16);
    const uintptr_t end = std::strtoull(range.substr(dash + 1).c_str(), nullptr, 16);
    for (; begin < end; begin += page) (void)*reinterpret_cast<const volatile char *>(begin);
  }
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

ChildRun RunFreshProcess(const std::vector<std::string> &args) {
  ChildRun run;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    run.error = "pipe failed";
    return run;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    // jemalloc keeps initial-exec TLS, which dlopen takes from glibc's static TLS surplus.
    setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536", 1);
    std::vector<char *> argv;
    static char self[] = "/proc/self/exe";
    argv.push_back(self);
    for (const std::string &arg : args) argv.push_back(const_cast<char *>(arg.c_str()));
    argv.push_back(nullptr);
    execv(self, argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  char buffer[4096];
  ssize_t got;
  while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) run.output.append(buffer, static_cast<size_t>(got));
  close(pipe_fds[0]);
  int status = 0;
  struct rusage usage;
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) {
    run.error = "fork or wait failed";
    return run;
  }
  run.peak_rss = static_cast<size_t>(usage.ru_maxrss) * 1024;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    run.ok = true;
  } else {
    run.error = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                    : "exit " + std::to_string(WEXITSTATUS(status));
  }
  return run;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

namespace {

const Measurement *Find(const std::vector<Measurement> &row, const std::string &subject) {
  for (const Measurement &m : row)
    if (m.ok && m.subject == subject) return &m;
  return nullptr;
}

// The best peer (mimalloc, jemalloc) by `better` (true when a beats b).
template <typename Better>
const Measurement *BestPeer(const std::vector<Measurement> &row, Better better) {
  const Measurement *best = nullptr;
  for (const Measurement &m : row) {
    if (!m.ok || (m.subject != "mimalloc" && m.subject != "jemalloc")) continue;
    if (best == nullptr || better(m, *best)) best = &m;
  }
  return best;
}

const char *Verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace

std::string ComparisonTable(const std::string &title, const std::vector<std::string> &workloads,
                            const std::vector<std::vector<Measurement>> &rows, const std::string &stock_name) {
  std::ostringstream text;
  char line[512];
  text << title << "\n";
  std::snprintf(line, sizeof line, "  %-14s %-10s %10s %12s %12s %10s\n", "workload", "subject", "CPU ms",
                "peak RSS MiB", "growth MiB", ("vs " + stock_name).c_str());
  text << line;
  double log_stock = 0, log_peer = 0, log_rss = 0;
  int counted = 0;
  std::ostringstream verdicts;
  for (size_t w = 0; w < workloads.size(); ++w) {
    const std::vector<Measurement> &row = rows[w];
    const Measurement *stock = Find(row, stock_name);
    for (const Measurement &m : row) {
      if (!m.ok) {
        std::snprintf(line, sizeof line, "  %-14s %-10s skipped: %s\n", workloads[w].c_str(), m.subject.c_str(),
                      m.note.c_str());
      } else {
        std::snprintf(line, sizeof line, "  %-14s %-10s %10.1f %12.1f %12.2f %9.2fx\n", workloads[w].c_str(),
                      m.subject.c_str(), m.seconds * 1e3, m.peak_rss_mib, m.growth_mib,
                      stock != nullptr ? stock->seconds / m.seconds : 0.0);
      }
      text << line;
    }
    const Measurement *alloy = Find(row, "alloy");
    const Measurement *fastest =
        BestPeer(row, [](const Measurement &a, const Measurement &b) { return a.seconds < b.seconds; });
    const Measurement *leanest =
        BestPeer(row, [](const Measurement &a, const Measurement &b) { return a.growth_mib < b.growth_mib; });
    if (alloy == nullptr || stock == nullptr || fastest == nullptr || leanest == nullptr) continue;
    const double vs_stock = stock->seconds / alloy->seconds;
    const double vs_peer = fastest->seconds / alloy->seconds;
    // RSS moves in pages: a growth below one page counts as one, so a
    // workload that grows neither heap still compares (1x).
    const double page_mib = static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
    const double rss = std::max(alloy->growth_mib, page_mib) / std::max(leanest->growth_mib, page_mib);
    std::snprintf(line, sizeof line,
                  "  %-14s alloy time %.2fx %s (>= 1.2x: %s), %.2fx best peer %s (>= 1x: %s); "
                  "RSS growth %.2fx best peer %s (<= 1x: %s)\n",
                  workloads[w].c_str(), vs_stock, stock_name.c_str(), Verdict(vs_stock >= 1.2), vs_peer,
                  fastest->subject.c_str(), Verdict(vs_peer >= 1.0), rss, leanest->subject.c_str(),
                  Verdict(rss <= 1.0));
    verdicts << line;
    log_stock += std::log(vs_stock);
    log_peer += std::log(vs_peer);
    log_rss += std::log(rss);
    ++counted;
  }
  text << verdicts.str();
  if (counted > 0) {
    const double n = counted;
    std::snprintf(line, sizeof line,
                  "  geometric mean: alloy time %.2fx %s (>= 1.2x: %s), %.2fx best peer (>= 1x: %s); "
                  "RSS growth %.2fx best peer (<= 1x: %s)\n",
                  std::exp(log_stock / n), stock_name.c_str(), Verdict(std::exp(log_stock / n) >= 1.2),
                  std::exp(log_peer / n), Verdict(std::exp(log_peer / n) >= 1.0), std::exp(log_rss / n),
                  Verdict(std::exp(log_rss / n) <= 1.0));
    text << line;
  }
  return text.str();
}

unsigned long long Digest(const std::string &text) {
  unsigned long long hash = 14695981039346656037ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

void PrintChildResult(double seconds, size_t rss_before, const std::string &output) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("%.9f %zu %zu %llu\n", seconds, rss_before, static_cast<size_t>(usage.ru_maxrss) * 1024,
              Digest(output));
}

Measurement MeasureInFreshProcesses(const std::string &subject, const std::vector<std::string> &args, int runs) {
  Measurement m;
  m.subject = subject;
  std::vector<double> seconds, peaks, growths;
  for (int run = 0; run < runs; ++run) {
    ChildRun child = RunFreshProcess(args);
    double s = 0;
    size_t before = 0, peak = 0;
    unsigned long long digest = 0;
    if (!child.ok || std::sscanf(child.output.c_str(), "%lf %zu %zu %llu", &s, &before, &peak, &digest) != 4) {
      m.note = child.ok ? "unreadable child output" : child.error;
      return m;
    }
    seconds.push_back(s);
    peaks.push_back(peak / 1048576.0);
    growths.push_back((peak - std::min(peak, before)) / 1048576.0);
    m.digest = std::to_string(digest);
  }
  m.ok = true;
  m.seconds = Median(seconds);
  m.peak_rss_mib = Median(peaks);
  m.growth_mib = Median(growths);
  return m;
}

std::string Flag(int argc, char **argv, const char *name, const std::string &fallback) {
  const size_t length = std::strlen(name);
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], name, length) == 0 && argv[i][length] == '=') return argv[i] + length + 1;
  return fallback;
}

std::vector<std::string> Split(const std::string &list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  std::string item;
  while (std::getline(stream, item, ',')) items.push_back(item);
  return items;
}

}  // namespace alloy_host_bench
