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
  plot for [i=2:ncols] f skip 1 using (1.0/(1.0 - $1/100.0)):(column(i) > 0 ? column(i) : 0.5) \
       with linespoints lw 2 pt 7 ps 0.8 title columnhead(i)
  unset logscale
  unset xtics
  set xtics
  unset xrange
}

# --- ratios vs peers -----------------------------------------------------------
ratio_files = system("ls " . dir . "/ratios_*.csv 2>/dev/null")
do for [f in ratio_files] {
  out = f[1:strlen(f)-4] . ".png"
  title_line = system("head -1 " . f . " | sed 's/^# //'")
  ncols = int(system("sed -n 2p " . f . " | awk -F, '{print NF}'"))
  nrows = int(system("tail -n +3 " . f . " | wc -l"))
  set output out
  set terminal pngcairo size 1100, (200 + 28 * nrows) font "sans,10" noenhanced
  set title title_line
  set style data histograms
  set style histogram clustered gap 1
  set style fill solid 0.85 border -1
  set boxwidth 0.9
  # Horizontal bars read better with long labels: draw columns and rotate.
  set xtics rotate by -35 left nomirror
  set bmargin 14
  set logscale y 2
  set yrange [0.125:8]
  set ytics ("1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "8" 8)
  set ylabel "alloy advantage (log2): >1 alloy better, <1 peer better"
  set grid ytics
  set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
  set key top right
  plot for [i=2:ncols] f skip 1 using (column(i) > 0 ? column(i) : 1/0):xtic(1) title columnhead(i)
  unset arrow 1
  unset logscale
  unset yrange
  set bmargin
  set terminal pngcairo size 1100,650 font "sans,10" noenhanced
}
