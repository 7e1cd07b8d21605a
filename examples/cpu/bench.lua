-- CPU-bound Lua for bench/cpu-suite.js (run by real/build/lua.wasm): recursion, table fills and
-- sorting, string formatting and concatenation, closures. No errors are raised, so a plain run
-- needs no real setjmp/longjmp. Usage: lua bench.lua [rounds]
local rounds = tonumber(arg and arg[1]) or 1

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function adder(x)
  return function(y) return x + y end
end

local total = 0
for _ = 1, rounds do
  total = total + fib(22)
  local t = {}
  for i = 1, 20000 do t[i] = (i * 7919) % 10007 end
  table.sort(t)
  local parts = {}
  for i = 1, 2000 do parts[#parts + 1] = string.format("%d:%x", i, t[i]) end
  total = total + #table.concat(parts, ",") + t[1000]
  local acc = 0
  for i = 1, 20000 do acc = adder(i)(acc) % 1000003 end
  total = total + acc
end
print(total)
