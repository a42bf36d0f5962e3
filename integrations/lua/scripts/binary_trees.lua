-- binary_trees.lua: the Benchmarks Game's binary-trees. Many short-lived
-- tables of one size, built and dropped depth by depth, one long-lived tree.
-- SCALE (a number the host sets, default 1) picks the depth.
local scale = SCALE or 1
local max_depth = math.max(6, math.floor(12 + math.log(scale, 2)))

local function bottom_up(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { bottom_up(depth), bottom_up(depth) }
end

local function item_check(tree)
  if tree[1] then return 1 + item_check(tree[1]) + item_check(tree[2]) end
  return 1
end

local total = 0
local stretch = max_depth + 1
local check = item_check(bottom_up(stretch))
print(string.format("stretch tree of depth %d\t check: %d", stretch, check))
total = total + check

local long_lived = bottom_up(max_depth)
for depth = 4, max_depth, 2 do
  local iterations = 2 ^ (max_depth - depth + 4) // 1
  check = 0
  for _ = 1, iterations do check = check + item_check(bottom_up(depth)) end
  print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, check))
  total = total + check
end
check = item_check(long_lived)
print(string.format("long lived tree of depth %d\t check: %d", max_depth, check))
total = total + check
print(string.format("binary_trees depth %d total %d", max_depth, total))
