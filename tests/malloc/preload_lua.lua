-- A workload for the drop-in malloc: tables of tables, string building,
-- closures, collected in rounds. Lua seeds its string hashes per process,
-- so every printed value is independent of table traversal order.
local function checksum(s)
  local h = 0
  for i = 1, #s, 7 do h = (h * 31 + s:byte(i)) % 4294967291 end
  return h
end

local total = 0
for round = 1, 2 do
  local grid = {}
  for i = 1, 300 do
    local row = {}
    for j = 1, 200 do row[j] = {i = i, j = j, tag = "c" .. i .. "_" .. j} end
    grid[i] = row
  end
  local sum = 0
  for i = 1, #grid do for j = 1, #grid[i] do sum = sum + grid[i][j].i * grid[i][j].j + #grid[i][j].tag end end
  print(("round %d: %d"):format(round, sum))
  total = total + sum
  grid = nil
  collectgarbage("collect")
end
print("total " .. total)

local dictionary, keys = {}, 0
for i = 1, 80000 do dictionary["key" .. i] = string.rep("v", i % 300) end
for i = 1, 80000, 2 do dictionary["key" .. i] = nil end
local length = 0
for _, v in pairs(dictionary) do keys = keys + 1; length = length + #v end
print("dictionary " .. keys .. " " .. length)
dictionary = nil

local parts = {}
for i = 1, 60000 do parts[#parts + 1] = string.format("%05d:%s", i, string.rep("x", i % 40)) end
local joined = table.concat(parts, ",")
local pieces = 0
for _ in joined:gmatch("[^,]+") do pieces = pieces + 1 end
local grown = ""
for i = 1, 3000 do grown = grown .. tostring(i) end
print("strings " .. #joined .. " " .. pieces .. " " .. checksum(joined) .. " " .. #grown .. " " .. checksum(grown))
parts, joined, grown = nil, nil, nil

local counters = {}
for i = 1, 20000 do
  local n = 0
  counters[i] = function() n = n + i; return n end
end
local calls = 0
for i = 1, #counters do calls = calls + counters[i]() + counters[i]() end
print("closures " .. calls)
counters = nil
collectgarbage("collect")
print("done")
