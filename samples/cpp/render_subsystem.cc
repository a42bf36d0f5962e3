// Sample: a small C++ render subsystem on alloy through std::pmr.
//
// Two kinds of memory, two components:
//   - assets (meshes, sounds) live for a level, come and go in any order and
//     any size: a TLSF heap, under the tagged decorator so every byte is
//     charged to "graphics" or "audio" with a budget per tag;
//   - draw commands and batching tables live for one frame: a frame arena,
//     reset once per frame, with a frame_scope for a pass's scratch.
// Both reach the standard containers through alloy::memory_resource. A
// request the budget refuses is a std::bad_alloc on the std::pmr side and a
// status on alloy's non-throwing path.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory_resource>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alloy/allocator.h"
#include "alloy/frame.h"
#include "alloy/frame_scope.hpp"
#include "alloy/make.hpp"
#include "alloy/memory_resource.hpp"
#include "alloy/memory_tag.h"
#include "alloy/tagged.h"
#include "alloy/tlsf.h"

namespace {

constexpr size_t kGraphicsBudget = size_t{4} << 20;
constexpr size_t kAudioBudget = size_t{1} << 20;

// Allocations through a tagged decorator on this thread are charged to
// `tag` while the object lives.
class tag_scope {
 public:
  explicit tag_scope(alloy_tag tag) : pushed_(alloy_tag_push(tag) == ALLOY_OK) {}
  ~tag_scope() {
    if (pushed_ && alloy_tag_pop() != ALLOY_OK) std::fprintf(stderr, "tag scope out of balance\n");
  }
  tag_scope(const tag_scope &) = delete;
  tag_scope &operator=(const tag_scope &) = delete;

 private:
  bool pushed_;
};

// Allocator-aware, so a std::pmr map that builds it in a node hands it the
// map's resource (without allocator_type its vectors would take the default
// resource: the global heap).
struct mesh {
  using allocator_type = std::pmr::polymorphic_allocator<std::byte>;
  mesh(uint32_t material_id, const allocator_type &allocator)
      : vertices(allocator), indices(allocator), material(material_id) {}

  std::pmr::vector<float> vertices;  // x, y, z per vertex
  std::pmr::vector<uint32_t> indices;
  uint32_t material;
};

// The level's assets: every container, node and string in the tagged TLSF.
class asset_store {
 public:
  explicit asset_store(std::pmr::memory_resource *memory) : meshes_(memory), sounds_(memory) {}

  void load_mesh(const char *name, size_t vertex_count, uint32_t material) {
    tag_scope charged(ALLOY_TAG_GRAPHICS);
    mesh &m = meshes_.try_emplace(std::pmr::string(name, meshes_.get_allocator()), material).first->second;
    m.vertices.resize(vertex_count * 3, 1.0f);
    m.indices.resize(vertex_count * 2);
    for (size_t i = 0; i < m.indices.size(); ++i) m.indices[i] = static_cast<uint32_t>(i % vertex_count);
  }

  void load_sound(const char *name, size_t samples) {
    tag_scope charged(ALLOY_TAG_AUDIO);
    sounds_.try_emplace(std::pmr::string(name, sounds_.get_allocator()), samples, int16_t{0});
  }

  const std::pmr::unordered_map<std::pmr::string, mesh> &meshes() const { return meshes_; }
  size_t sound_count() const { return sounds_.size(); }

 private:
  std::pmr::unordered_map<std::pmr::string, mesh> meshes_;
  std::pmr::unordered_map<std::pmr::string, std::pmr::vector<int16_t>> sounds_;
};

struct draw_command {
  const mesh *what;
  float x, y, z;
  uint32_t material;
};

// Builds one frame's draw list in the frame arena and batches it by material.
void render_frame(int frame_number, alloy_frame *frame, const asset_store &assets) {
  alloy::memory_resource frame_memory(alloy_frame_resource(frame));
  std::pmr::vector<draw_command> commands(&frame_memory);
  const int instances = 100 + 50 * frame_number;
  for (const auto &[name, m] : assets.meshes()) {
    for (int i = 0; i < instances; ++i) {
      commands.push_back(draw_command{&m, static_cast<float>(i), 0.0f, static_cast<float>(frame_number), m.material});
    }
  }

  size_t visible = 0;
  {
    // The culling pass's scratch is gone when the pass ends, before the frame does.
    alloy::frame_scope culling(frame);
    std::pmr::vector<uint32_t> visible_indices(&frame_memory);
    for (size_t i = 0; i < commands.size(); ++i) {
      if (static_cast<int>(commands[i].x) % 3 != 0) visible_indices.push_back(static_cast<uint32_t>(i));
    }
    visible = visible_indices.size();
  }

  std::pmr::unordered_map<uint32_t, size_t> batches(&frame_memory);
  for (const draw_command &command : commands) ++batches[command.material];

  alloy_frame_stats stats;
  alloy_frame_get_stats(frame, &stats);
  std::printf("frame %d: %zu draw commands, %zu visible, %zu batches, %zu B of frame memory\n", frame_number,
              commands.size(), visible, batches.size(), stats.used);
}

void print_tags(const alloy_tagged *tagged, const char *when) {
  alloy_tag_stats graphics;
  alloy_tag_stats audio;
  if (alloy_tagged_get_tag_stats(tagged, ALLOY_TAG_GRAPHICS, &graphics) != ALLOY_OK ||
      alloy_tagged_get_tag_stats(tagged, ALLOY_TAG_AUDIO, &audio) != ALLOY_OK) {
    return;
  }
  std::printf("%s: graphics %zu B live (peak %zu, budget %zu), audio %zu B live (peak %zu, budget %zu)\n", when,
              graphics.live_bytes, graphics.peak_live_bytes, graphics.budget, audio.live_bytes,
              audio.peak_live_bytes, audio.budget);
}

int run(alloy_frame *frame, alloy_tagged *tagged) {
  alloy::memory_resource asset_memory(alloy_tagged_resource(tagged));
  {
    asset_store assets(&asset_memory);
    assets.load_mesh("rock", 2000, 1);
    assets.load_mesh("tree", 5000, 2);
    assets.load_mesh("house", 12000, 3);
    assets.load_sound("wind", 48000);
    assets.load_sound("steps", 12000);
    std::printf("loaded %zu meshes and %zu sounds\n", assets.meshes().size(), assets.sound_count());
    print_tags(tagged, "after loading");

    // Over budget on the std::pmr side: the container sees std::bad_alloc.
    try {
      assets.load_sound("orchestra", kAudioBudget);  // two bytes a sample: twice the budget
      std::printf("the orchestra fit, which it should not\n");
      return 1;
    } catch (const std::bad_alloc &) {
      std::printf("sound orchestra refused at the std::pmr boundary: std::bad_alloc\n");
    }

    // Over budget on alloy's own path: a status, no exception.
    {
      tag_scope charged(ALLOY_TAG_GRAPHICS);
      alloy::result<alloy_block> texture =
          alloy::try_allocate(alloy_allocator_of(alloy_tagged_resource(tagged)), kGraphicsBudget, 64);
      std::printf("texture of %zu B: %s\n", kGraphicsBudget, alloy_status_name(texture.status()));
      if (texture) (void)alloy_free(alloy_allocator_of(alloy_tagged_resource(tagged)), *texture, 64);
    }

    for (int f = 0; f < 3; ++f) {
      render_frame(f, frame, assets);
      alloy_frame_reset(frame);  // every command and batch table of the frame, at once
    }

  }  // the level ends: every asset, node and bucket array goes back, each to its own tag
  print_tags(tagged, "after unloading");
  return 0;
}

}  // namespace

int main() {
  alloy_frame_config frame_config = alloy_frame_config_default(size_t{8} << 20);
  alloy_frame *frame = nullptr;
  if (alloy_frame_create(&frame_config, &frame) != ALLOY_OK) {
    std::fprintf(stderr, "frame arena refused\n");
    return 1;
  }
  alloy_tlsf_config tlsf_config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = nullptr;
  if (alloy_tlsf_create(&tlsf_config, &tlsf) != ALLOY_OK) {
    alloy_frame_destroy(frame);
    std::fprintf(stderr, "TLSF heap refused\n");
    return 1;
  }
  alloy_tagged_config tagged_config = {};
  tagged_config.budgets[ALLOY_TAG_GRAPHICS] = kGraphicsBudget;
  tagged_config.budgets[ALLOY_TAG_AUDIO] = kAudioBudget;
  alloy_tagged *tagged = nullptr;
  int code = 1;
  if (alloy_tagged_create(alloy_tlsf_resource(tlsf), &tagged_config, &tagged) == ALLOY_OK) {
    code = run(frame, tagged);
    alloy_tagged_destroy(tagged);
  } else {
    std::fprintf(stderr, "tagged decorator refused\n");
  }
  alloy_tlsf_destroy(tlsf);
  alloy_frame_destroy(frame);
  return code;
}
