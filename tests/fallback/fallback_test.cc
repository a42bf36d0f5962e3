#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fallback.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

// A test-local bounded resource: a bump arena over a fixed buffer that serves
// up to 256 bytes, counts its calls and answers ownership by address.
struct Bounded {
  alloy_resource resource;
  alignas(64) unsigned char memory[8192];
  size_t used = 0;
  int allocations = 0, deallocations = 0, calls = 0;

  static alloy_status Allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
    Bounded *b = reinterpret_cast<Bounded *>(self);
    b->calls++;
    if (alloy_request_check(size, align) != ALLOY_OK) return ALLOY_E_INVALID_ARGUMENT;
    if (size > 256 || align > 64) return ALLOY_E_UNSUPPORTED;
    size_t start = alloy_align_up(b->used, align);
    if (start + size > sizeof b->memory) return ALLOY_E_CAPACITY;
    b->used = start + (size ? size : 1);
    b->allocations++;
    *out = alloy_block_make(b->memory + start, size);
    return ALLOY_OK;
  }
  static alloy_status Deallocate(alloy_resource *self, alloy_block, size_t) {
    reinterpret_cast<Bounded *>(self)->deallocations++;
    return ALLOY_OK;
  }
  static bool Owns(const alloy_resource *self, alloy_block block) {
    const Bounded *b = reinterpret_cast<const Bounded *>(self);
    return alloy_range_contains(b->memory, sizeof b->memory, block.ptr, 0);
  }
  static const alloy_resource_ops kOps;
  Bounded() { resource.ops = &kOps; }
};
const alloy_resource_ops Bounded::kOps = {sizeof(alloy_resource_ops), "bounded", Allocate, Deallocate, nullptr,
                                          nullptr, nullptr, Owns, nullptr, nullptr, nullptr, nullptr};

alloy_tlsf *MakeTlsf(size_t bytes) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = bytes;
  config.growth = ALLOY_TLSF_GROW_NONE;
  alloy_tlsf *tlsf = nullptr;
  EXPECT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  return tlsf;
}

// Contract subjects: the chain is a resource like any other.
struct ChainHolder {
  Bounded bounded;
  alloy_tlsf *tlsf = nullptr;
  alloy_fallback chain;
};

ContractSubject Chain(const char *name, bool with_system) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [with_system] {
    auto *holder = new ChainHolder;
    holder->tlsf = MakeTlsf(2 << 20);
    std::vector<alloy_resource *> members = {&holder->bounded.resource, alloy_tlsf_resource(holder->tlsf)};
    if (with_system) members.push_back(alloy_system_resource());
    EXPECT_EQ(alloy_fallback_init(&holder->chain, members.data(), members.size()), ALLOY_OK);
    return alloy_fallback_resource(&holder->chain);
  };
  subject.destroy = [](alloy_resource *resource) {
    auto *holder = reinterpret_cast<ChainHolder *>(reinterpret_cast<char *>(resource) - offsetof(ChainHolder, chain));
    EXPECT_EQ(alloy_tlsf_check(holder->tlsf), ALLOY_OK);
    alloy_tlsf_destroy(holder->tlsf);
    delete holder;
  };
  subject.max_size = with_system ? 1 << 20 : 65536;
  subject.max_alignment = with_system ? 65536 : 4096;
  subject.bounded = !with_system;
  subject.exhaustion_limit = 8192 + (2 << 20);
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Fallback, ResourceContract,
                         ::testing::Values(Chain("bounded_tlsf_system", true), Chain("bounded_tlsf", false)),
                         alloy_test::SubjectName);

class Fallback : public ::testing::Test {
 protected:
  void SetUp() override {
    tlsf_ = MakeTlsf(64 << 10);
    alloy_resource *members[] = {&bounded_.resource, alloy_tlsf_resource(tlsf_), alloy_system_resource()};
    ASSERT_EQ(alloy_fallback_init(&chain_, members, 3), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_fallback_resource(&chain_));
  }
  void TearDown() override {
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
    alloy_tlsf_destroy(tlsf_);
  }
  Bounded bounded_;
  alloy_tlsf *tlsf_ = nullptr;
  alloy_fallback chain_;
  alloy_allocator a_;
};

TEST_F(Fallback, EachSizeGoesToTheFirstMemberThatServesIt) {
  alloy_block small, medium, large, aligned;
  ASSERT_EQ(alloy_alloc(a_, 100, 16, &small), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 5000, 16, &medium), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 1 << 20, 16, &large), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 8192, &aligned), ALLOY_OK);
  EXPECT_EQ(alloy_fallback_owner(&chain_, small), &bounded_.resource);
  EXPECT_EQ(alloy_fallback_owner(&chain_, medium), alloy_tlsf_resource(tlsf_));
  EXPECT_EQ(alloy_fallback_owner(&chain_, large), alloy_system_resource()) << "too large for the tlsf pool";
  EXPECT_EQ(alloy_fallback_owner(&chain_, aligned), alloy_system_resource()) << "alignment above tlsf's";
  EXPECT_TRUE(alloy_ptr_is_aligned(aligned.ptr, 8192));
  for (alloy_block b : {small, medium, large}) EXPECT_EQ(alloy_free(a_, b, 16), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, aligned, 8192), ALLOY_OK);
  EXPECT_EQ(bounded_.deallocations, 1);
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf_, &stats);
  EXPECT_EQ(stats.allocations, 1u);
  EXPECT_EQ(stats.deallocations, 1u);
}

TEST_F(Fallback, ExhaustedMembersAreSkipped) {
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 100; ++i) {  // 100 * 200 B overflows the 8 KiB bounded arena
    alloy_block b;
    ASSERT_EQ(alloy_alloc(a_, 200, 8, &b), ALLOY_OK);
    blocks.push_back(b);
  }
  EXPECT_EQ(alloy_fallback_owner(&chain_, blocks.front()), &bounded_.resource);
  EXPECT_EQ(alloy_fallback_owner(&chain_, blocks.back()), alloy_tlsf_resource(tlsf_));
  for (alloy_block b : blocks) EXPECT_EQ(alloy_free(a_, b, 8), ALLOY_OK);
}

TEST_F(Fallback, InvalidArgumentsStopAtTheFirstMember) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_alloc(a_, 16, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, SIZE_MAX, 16, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  EXPECT_EQ(bounded_.calls, 0) << "rejected before any member";
}

TEST_F(Fallback, ReallocateMovesAcrossMembers) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 100, 16, &block), ALLOY_OK);
  alloy_test::Fill(block.ptr, 100, 11);
  ASSERT_EQ(alloy_reallocate(a_, &block, 3000, 16), ALLOY_OK);
  EXPECT_EQ(alloy_fallback_owner(&chain_, block), alloy_tlsf_resource(tlsf_));
  EXPECT_TRUE(alloy_test::Check(block.ptr, 100, 11));
  alloy_test::Fill(block.ptr, 3000, 12);
  ASSERT_EQ(alloy_reallocate(a_, &block, 200 << 10, 16), ALLOY_OK);
  EXPECT_EQ(alloy_fallback_owner(&chain_, block), alloy_system_resource());
  EXPECT_TRUE(alloy_test::Check(block.ptr, 3000, 12));
  ASSERT_EQ(alloy_reallocate(a_, &block, 50, 16), ALLOY_OK);
  EXPECT_TRUE(alloy_test::Check(block.ptr, 50, 12));
  EXPECT_EQ(alloy_free(a_, block, 16), ALLOY_OK);
  EXPECT_EQ(bounded_.deallocations, 1);
}

TEST_F(Fallback, ResizeRoutesToTheOwner) {
  alloy_block block, out;
  ASSERT_EQ(alloy_alloc(a_, 1000, 16, &block), ALLOY_OK);
  ASSERT_EQ(alloy_resource_resize(alloy_fallback_resource(&chain_), block, 2000, 16, &out), ALLOY_OK);
  EXPECT_EQ(out.ptr, block.ptr) << "tlsf grew it in place";
  EXPECT_EQ(alloy_free(a_, out, 16), ALLOY_OK);
}

TEST(FallbackChain, ForeignBlocksAreReportedWhenEveryMemberCanTell) {
  Bounded first;
  alloy_tlsf *tlsf = MakeTlsf(64 << 10);
  alloy_resource *members[] = {&first.resource, alloy_tlsf_resource(tlsf)};
  alloy_fallback chain;
  ASSERT_EQ(alloy_fallback_init(&chain, members, 2), ALLOY_OK);
  alloy_resource *resource = alloy_fallback_resource(&chain);
  EXPECT_TRUE(alloy_resource_can_tell_ownership(resource));
  int on_stack = 0;
  alloy_block foreign = alloy_block_make(&on_stack, sizeof on_stack);
  EXPECT_FALSE(alloy_resource_owns(resource, foreign));
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_resource_deallocate(resource, foreign, 8), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_NE(faults.last_message().find("fallback"), std::string::npos);
  alloy_tlsf_destroy(tlsf);
}

TEST(FallbackChain, AChainEndingInTheSystemHeapCannotTellOwnership) {
  alloy_tlsf *tlsf = MakeTlsf(64 << 10);
  alloy_resource *members[] = {alloy_tlsf_resource(tlsf), alloy_system_resource()};
  alloy_fallback chain;
  ASSERT_EQ(alloy_fallback_init(&chain, members, 2), ALLOY_OK);
  EXPECT_FALSE(alloy_resource_can_tell_ownership(alloy_fallback_resource(&chain)));
  alloy_resource_info info;
  alloy_resource_get_info(alloy_fallback_resource(&chain), &info);
  EXPECT_STREQ(info.name, "fallback");
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_UNSAFE) << "as safe as its least safe member";
  EXPECT_TRUE(info.has_stats);
  alloy_tlsf_destroy(tlsf);
}

TEST(FallbackChain, BadChainsAreRejected) {
  alloy_fallback chain;
  Bounded bounded;
  alloy_resource *system = alloy_system_resource();
  alloy_resource *system_first[] = {system, &bounded.resource};
  EXPECT_EQ(alloy_fallback_init(&chain, system_first, 2), ALLOY_E_INVALID_ARGUMENT)
      << "a member that cannot tell ownership must be last";
  alloy_resource *twice[] = {&bounded.resource, &bounded.resource};
  EXPECT_EQ(alloy_fallback_init(&chain, twice, 2), ALLOY_E_INVALID_ARGUMENT);
  alloy_resource *with_null[] = {&bounded.resource, nullptr};
  EXPECT_EQ(alloy_fallback_init(&chain, with_null, 2), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_fallback_init(&chain, system_first, 0), ALLOY_E_INVALID_ARGUMENT);
  std::vector<alloy_resource *> many(ALLOY_FALLBACK_MAX_MEMBERS + 1, system);
  EXPECT_EQ(alloy_fallback_init(&chain, many.data(), many.size()), ALLOY_E_INVALID_ARGUMENT);
}

TEST(FallbackChain, ChainsNest) {
  Bounded inner_first;
  alloy_tlsf *tlsf = MakeTlsf(64 << 10);
  alloy_resource *inner_members[] = {&inner_first.resource, alloy_tlsf_resource(tlsf)};
  alloy_fallback inner, outer;
  ASSERT_EQ(alloy_fallback_init(&inner, inner_members, 2), ALLOY_OK);
  alloy_resource *outer_members[] = {alloy_fallback_resource(&inner), alloy_system_resource()};
  ASSERT_EQ(alloy_fallback_init(&outer, outer_members, 2), ALLOY_OK);
  alloy_allocator a = alloy_allocator_of(alloy_fallback_resource(&outer));
  alloy_block small, medium, large;
  ASSERT_EQ(alloy_alloc(a, 32, 8, &small), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a, 4000, 8, &medium), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a, 1 << 20, 8, &large), ALLOY_OK);
  EXPECT_EQ(alloy_fallback_owner(&inner, small), &inner_first.resource);
  EXPECT_EQ(alloy_fallback_owner(&inner, medium), alloy_tlsf_resource(tlsf));
  EXPECT_EQ(alloy_fallback_owner(&outer, large), alloy_system_resource());
  for (alloy_block b : {small, medium, large}) EXPECT_EQ(alloy_free(a, b, 8), ALLOY_OK);
  alloy_tlsf_destroy(tlsf);
}

}  // namespace
