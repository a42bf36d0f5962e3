-- closures.lua: closures with shared and private upvalues, curried
-- functions, coroutines (each with its own stack), varargs and metatables.
-- SCALE (default 1) sets the number of rounds.
local scale = SCALE or 1
local rounds = math.max(20, math.floor(2000 * scale))

local function counter(start)
  local n = start
  return function(step) n = n + step; return n end, function() return n end
end

local function curry(f, a) return function(...) return f(a, ...) end end
local function add3(a, b, c) return a + b + c end

local vector = {}
vector.__index = vector
vector.__add = function(p, q) return setmetatable({ x = p.x + q.x, y = p.y + q.y }, vector) end
local function vec(x, y) return setmetatable({ x = x, y = y }, vector) end

local checksum = 0
for round = 1, rounds do
  local bump, read = counter(round)
  for i = 1, 20 do bump(i) end
  local add = curry(curry(add3, round), 7)
  local gen = coroutine.wrap(function()
    for i = 1, 10 do coroutine.yield(i * round) end
  end)
  local sum = 0
  for _ = 1, 10 do sum = sum + gen() end
  local v = vec(0, 0)
  for i = 1, 10 do v = v + vec(i, -i) end
  local packed = table.pack(read(), add(1), sum, v.x, v.y)
  checksum = (checksum * 17 + packed[1] + packed[2] + packed[3] + packed[4] + packed[5] + packed.n) % 1000000007
end
print(string.format("closures rounds %d checksum %d", rounds, checksum))
