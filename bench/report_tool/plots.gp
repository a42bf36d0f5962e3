# bench/report_tool/plots.gp — the report's PNG plots, drawn from its CSVs.
#
#   gnuplot -e "dir='bench-out'" bench/report_tool/plots.gp
#
# latency_<series>.csv -> latency_<series>.png: percentile curves per subject
#   (HDR style: the x axis spreads the tail, 50 % ... 99.999 %).
# ratios_<alloy>.csv   -> ratios_<alloy>.png: per headline metric, how much
#   better the alloy subject is than each peer (>1 = alloy better).
if (!exists("dir")) dir = "bench-out"
set datafile separator ","
set terminal pngcairo size 1100,650 font "sans,10" noenhanced
# Distinct colours that all read on white (gnuplot's default 5th is a pale yellow).
set linetype 1 lc rgb "#9400d3"
set linetype 2 lc rgb "#009e73"
set linetype 3 lc rgb "#56b4e9"
set linetype 4 lc rgb "#e69f00"
set linetype 5 lc rgb "#8b4513"
set linetype 6 lc rgb "#0072b2"
set linetype 7 lc rgb "#e51e10"
set linetype 8 lc rgb "#000000"
set linetype 9 lc rgb "#808080"
set linetype 10 lc rgb "#ff69b4"
set linetype cycle 10

# --- latency distributions --------------------------------------------------
latency_files = system("ls " . dir . "/latency_*.csv 2>/dev/null")
do for [f in latency_files] {
  out = f[1:strlen(f)-4] . ".png"
  title_line = system("head -1 " . f . " | sed 's/^# //'")
  ncols = int(system("sed -n 2p " . f . " | awk -F, '{print NF}'"))
  set output out
  set title title_line . ": latency by percentile"
  set logscale x
  set logscale y
  set xrange [1.5:200000]
  set xtics ("25%%" 1.333, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
  set xlabel "percentile"
  set ylabel "ns (log)"
  set grid xtics ytics mytics
  set key top left
  # Samples at or below the timer's empty-pair cost read 0 ns; they sit on the 1 ns floor.
  set yrange [1:*]
  plot for [i=2:ncols] f skip 1 using (1.0/(1.0 - $1/100.0)):(column(i) > 1 ? column(i) : 1) \
       with linespoints lw 2 pt 7 ps 0.8 title columnhead(i)
  unset logscale
  unset xtics
  set xtics
  unset xrange
  unset yrange
}

# --- ratios vs peers -----------------------------------------------------------
# Horizontal bars, one group per headline metric (long labels stay readable),
# log2 axis centred on 1: bars to the right are where alloy is better.
ratio_files = system("ls " . dir . "/ratios_*.csv 2>/dev/null")
do for [f in ratio_files] {
  out = f[1:strlen(f)-4] . ".png"
  title_line = system("head -1 " . f . " | sed 's/^# //'")
  ncols = int(system("sed -n 2p " . f . " | awk -F, '{print NF}'"))
  nrows = int(system("tail -n +3 " . f . " | wc -l"))
  npeers = ncols - 1
  bw = 0.8 / npeers
  set terminal pngcairo size 1200, (160 + 34 * nrows) font "sans,10" noenhanced
  set output out
  set title title_line
  unset ylabel
  set logscale x 2
  set xrange [1.0/64:64]
  set xtics ("1/64" 1.0/64, "1/16" 0.0625, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "16" 16, "64" 64)
  set xlabel "alloy advantage over the peer (log2; bars stop at 1/64 and 64): right of 1 = alloy better, left = the peer better"
  set yrange [nrows - 0.5:-0.5]
  set ytics nomirror
  set grid xtics
  set style fill solid 0.85 border -1
  set key outside right top
  set arrow 1 from first 1, graph 0 to first 1, graph 1 nohead lw 2 lc rgb "black"
  clip(v) = v < 1.0/64 ? 1.0/64 : (v > 64 ? 64 : v)
  plot for [i=2:ncols] f skip 1 using (1):($0 + (i - 2 - (npeers - 1) / 2.0) * bw):(clip(column(i) < 1 ? column(i) : 1)):(clip(column(i) > 1 ? column(i) : 1)):($0 + (i - 2 - (npeers - 1) / 2.0) * bw - bw / 2):($0 + (i - 2 - (npeers - 1) / 2.0) * bw + bw / 2) with boxxyerror title columnhead(i), \
       f skip 2 using (1):0:ytic(1) with points ps 0 notitle
  unset arrow 1
  unset logscale
  unset xrange
  unset yrange
  unset xtics
  set xtics
  set ytics
  set terminal pngcairo size 1100,650 font "sans,10" noenhanced
}
