-- string_build.lua: strings built by concatenation, table.concat,
-- string.format, gsub and rep; short strings (interned) and long ones
-- (grown buffers). SCALE (default 1) sets the number of rounds.
local scale = SCALE or 1
local rounds = math.max(20, math.floor(300 * scale))

local function hash(s) -- a 32-bit FNV-1a over the bytes
  local h = 2166136261
  for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
  return h
end

local total_length, combined = 0, 0
for round = 1, rounds do
  local s = ""
  for i = 1, 40 do s = s .. string.format("%d:%x;", i * round, i) end
  local parts = {}
  for i = 1, 200 do parts[#parts + 1] = tostring(i + round) .. "," end
  local joined = table.concat(parts)
  local replaced = joined:gsub("%d+", function(d) return "<" .. d .. ">" end)
  local repeated = string.rep("ab", round % 97 + 1, "-")
  local upper = replaced:upper():sub(1, 500)
  total_length = total_length + #s + #joined + #replaced + #repeated + #upper
  combined = (combined + hash(s) + hash(upper) + hash(repeated)) % 4294967296
end
print(string.format("string_build rounds %d length %d hash %d", rounds, total_length, combined))
