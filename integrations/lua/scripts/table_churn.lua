-- table_churn.lua: tables that grow, shrink and die, with array and hash
-- parts of every size (rehash after rehash), keyed by integers and strings.
-- SCALE (default 1) sets the number of rounds.
local scale = SCALE or 1
local rounds = math.max(20, math.floor(400 * scale))

local seed = 12345
local function random(n) -- a 31-bit LCG, so every allocator sees the same run
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

local checksum = 0
local live = {}
for round = 1, rounds do
  local t = {}
  local count = 1 + random(600)
  for i = 1, count do t[i] = i * round end
  for i = 1, count // 3 do t["k" .. random(1000)] = i end
  for i = count, count // 2, -1 do t[i] = nil end       -- shrink the array part
  local sum = 0
  for _, v in pairs(t) do sum = sum + v end
  checksum = (checksum * 31 + sum + count) % 1000000007
  live[1 + random(64)] = t                              -- some survive a while
  local nested = {}
  for i = 1, 50 do nested[i] = { i, tostring(i), { x = i } } end
  checksum = (checksum + #nested + #nested[50][2]) % 1000000007
end
local survivors = 0
for _, t in pairs(live) do survivors = survivors + #t end
print(string.format("table_churn rounds %d checksum %d survivors %d", rounds, checksum, survivors))
