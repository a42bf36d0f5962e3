-- bench/malloc/programs/churn.lua — lua5.4 for the drop-in malloc
-- comparison: tables of tables, string building and closures, built and
-- collected; every count times SCALE (arg[1], default 1). Every printed
-- value is independent of table traversal order.
local scale = tonumber(arg[1]) or 1
local function n(count) return math.max(1, math.floor(count * scale)) end

local total = 0
for round = 1, 2 do
  local grid = {}
  for i = 1, n(100) do
    local row = {}
    for j = 1, 200 do row[j] = {i = i, j = j, tag = "c" .. i .. "_" .. j} end
    grid[i] = row
  end
  for i = 1, #grid do for j = 1, #grid[i] do total = total + grid[i][j].i * grid[i][j].j + #grid[i][j].tag end end
  grid = nil
  collectgarbage("collect")
end
print("grid " .. total)

local dictionary, keys, length = {}, 0, 0
for i = 1, n(30000) do dictionary["key" .. i] = string.rep("v", i % 300) end
for i = 1, n(30000), 2 do dictionary["key" .. i] = nil end
for _, v in pairs(dictionary) do keys = keys + 1; length = length + #v end
print("dictionary " .. keys .. " " .. length)
dictionary = nil

local parts = {}
for i = 1, n(20000) do parts[#parts + 1] = string.format("%05d:%s", i, string.rep("x", i % 40)) end
local joined = table.concat(parts, ",")
local pieces = 0
for _ in joined:gmatch("[^,]+") do pieces = pieces + 1 end
print("strings " .. #joined .. " " .. pieces)
parts, joined = nil, nil

local counters, calls = {}, 0
for i = 1, n(8000) do
  local c = 0
  counters[i] = function() c = c + i; return c end
end
for i = 1, #counters do calls = calls + counters[i]() + counters[i]() end
print("closures " .. calls)
counters = nil
collectgarbage("collect")
print("done")
