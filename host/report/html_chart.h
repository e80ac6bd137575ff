// Internal to host/report: the HTML page's SVG line and point charts, drawn from plain
// series of (x, y) points with no knowledge of runs. Output is stable text (coordinates to
// one decimal), so that the same data always gives the same page.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace orch::html {

// The text with HTML's special characters (& < > " ') written as entities.
std::string escape(const std::string& text);

// Dots joined by a line for measurements; crosses and rings, unjoined, for runs without one.
enum class Marker { kDot, kCross, kRing };

struct Series {
  std::string name;
  std::string color;
  Marker marker = Marker::kDot;
  std::vector<std::pair<double, double>> points;
};

struct Axis {
  std::string label;
  bool integer = false;       // ticks at whole numbers only (epochs, batch sizes)
  bool include_zero = false;  // time and memory start at zero so that ratios read true
  // When set, the ticks: positions and labels (categories, or values on a log scale).
  std::vector<std::pair<double, std::string>> ticks;
};

struct Chart {
  std::string id;  // data-chart, for tests and scripts
  std::string title;
  Axis x, y;
  std::vector<Series> series;
};

// A line and point chart with a fixed size, gridlines at nice ticks (or the axis's own
// ticks), axis labels and a legend: one <svg class="chart"> element. Points with a NaN or
// infinite coordinate are left out.
std::string render_chart(Chart chart);

}  // namespace orch::html
