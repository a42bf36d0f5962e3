#include "tests/decorators/inner_factories.h"

#include "alloy/system.h"
#include "bench/support/test_free_list.h"

namespace alloy_test {

std::vector<InnerFactory> InnerFactories() {
  constexpr size_t kFreeListCapacity = 8 << 20;
  return {
      {"system", [] { return alloy_system_resource(); }, [](alloy_resource *) {}, 1 << 20, 1 << 16, false, 0},
      {"free_list", [] { return CreateFreeList(kFreeListCapacity); }, DestroyFreeList, 32768,
       kFreeListMaxAlignment, true, kFreeListCapacity},
      // One line per further strategy, e.g.:
      // {"tlsf", [] { return MakeTlsf(16 << 20); }, DestroyTlsf, 1 << 20, 4096, true, 16 << 20},
  };
}

}  // namespace alloy_test
