#include "host/report/html_chart.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>

#include "host/base/table.h"

namespace orch::html {
namespace {

// Every chart has the same size, so that a row of them lines up on the page.
constexpr double kWidth = 480, kHeight = 280;
constexpr double kLeft = 64, kRight = 16, kTop = 52, kBottom = 46;  // room for labels
constexpr double kInset = 10;                                       // keeps points off the axes
constexpr double kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;

// Coordinates are written with one decimal: enough for a 480-pixel chart, and stable text.
std::string px(double value) { return format_fixed(value, 1); }

struct Ticks {
  double low = 0, high = 1, step = 1;
  int decimals = 0;
};

// Heckbert's nice numbers: about five ticks at 1, 2 or 5 times a power of ten.
Ticks nice_ticks(double low, double high, bool integer) {
  if (!(high > low)) {
    double pad = integer ? 1 : (low == 0 ? 1 : std::abs(low) * 0.5);
    low -= low == 0 ? 0 : pad;
    high += pad;
  }
  double raw = (high - low) / 5;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double fraction = raw / magnitude;
  Ticks ticks;
  ticks.step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
  if (integer) ticks.step = std::max(ticks.step, 1.0);
  ticks.low = std::floor(low / ticks.step + 1e-9) * ticks.step;
  ticks.high = std::ceil(high / ticks.step - 1e-9) * ticks.step;
  ticks.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(ticks.step) + 1e-9)));
  return ticks;
}

std::pair<double, double> data_range(const Chart& chart, bool x_axis) {
  double low = INFINITY, high = -INFINITY;
  for (const auto& series : chart.series) {
    for (const auto& [x, y] : series.points) {
      low = std::min(low, x_axis ? x : y);
      high = std::max(high, x_axis ? x : y);
    }
  }
  if (low > high) return {0, 1};
  return {low, high};
}

// Where data values land in pixels: each axis's tick range spans the plot, less the inset.
struct Scale {
  Ticks x, y;
  double to_x(double value) const {
    return kLeft + kInset + (value - x.low) / (x.high - x.low) * (kPlotWidth - 2 * kInset);
  }
  double to_y(double value) const {
    return kTop + kPlotHeight - kInset -
           (value - y.low) / (y.high - y.low) * (kPlotHeight - 2 * kInset);
  }
};

Scale scale_of(const Chart& chart) {
  Scale scale;
  auto [x_low, x_high] = data_range(chart, true);
  if (!chart.x.ticks.empty()) {
    scale.x.low = chart.x.ticks.front().first;
    scale.x.high = chart.x.ticks.back().first;
    if (!(scale.x.high > scale.x.low)) scale.x.low -= 1, scale.x.high += 1;
  } else {
    scale.x = nice_ticks(x_low, x_high, chart.x.integer);
  }
  auto [y_low, y_high] = data_range(chart, false);
  if (chart.y.include_zero) y_low = std::min(y_low, 0.0);
  scale.y = nice_ticks(y_low, y_high, chart.y.integer);
  return scale;
}

// A diverged run's NaN or infinite loss has no place on an axis: leave those points out.
void drop_unplottable_points(Chart& chart) {
  for (auto& series : chart.series) {
    auto& points = series.points;
    points.erase(std::remove_if(points.begin(), points.end(),
                                [](const auto& p) {
                                  return !std::isfinite(p.first) || !std::isfinite(p.second);
                                }),
                 points.end());
  }
}

std::string marker(const Series& series, double x, double y) {
  if (series.marker == Marker::kDot) {
    return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"3.5\" fill=\"" + series.color +
           "\"/>";
  }
  if (series.marker == Marker::kRing) {
    return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"4.5\" fill=\"none\" stroke=\"" +
           series.color + "\" stroke-width=\"2\"/>";
  }
  const double arm = 5;
  return "<path d=\"M" + px(x - arm) + " " + px(y - arm) + "L" + px(x + arm) + " " + px(y + arm) +
         "M" + px(x - arm) + " " + px(y + arm) + "L" + px(x + arm) + " " + px(y - arm) +
         "\" stroke=\"" + series.color + "\" stroke-width=\"2.5\"/>";
}

// The <svg> element's opening, its title and the plot's border.
void draw_frame(std::ostream& svg, const Chart& chart) {
  svg << "<svg class=\"chart\" data-chart=\"" << escape(chart.id) << "\" width=\"" << kWidth
      << "\" height=\"" << kHeight << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" role=\"img\">\n<title>" << escape(chart.title) << "</title>\n";
  svg << "<text class=\"title\" x=\"" << px(kWidth / 2) << "\" y=\"18\">" << escape(chart.title)
      << "</text>\n";
  svg << "<rect class=\"plot\" x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kPlotWidth
      << "\" height=\"" << kPlotHeight << "\"/>\n";
}

void draw_y_grid(std::ostream& svg, const Scale& scale) {
  const Ticks& yt = scale.y;
  for (int i = 0; yt.low + i * yt.step <= yt.high + yt.step * 1e-6; ++i) {
    double value = yt.low + i * yt.step, y = scale.to_y(value);
    svg << "<line class=\"grid\" x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotWidth << "\" y1=\""
        << px(y) << "\" y2=\"" << px(y) << "\"/><text class=\"ytick\" x=\"" << kLeft - 6
        << "\" y=\"" << px(y + 4) << "\">" << format_fixed(value, yt.decimals) << "</text>\n";
  }
}

// The axis's own ticks when it has them, else the nice ticks; long labels are cut short.
void draw_x_ticks(std::ostream& svg, const Chart& chart, const Scale& scale) {
  std::vector<std::pair<double, std::string>> x_ticks = chart.x.ticks;
  const Ticks& xt = scale.x;
  if (x_ticks.empty()) {
    for (int i = 0; xt.low + i * xt.step <= xt.high + xt.step * 1e-6; ++i) {
      double value = xt.low + i * xt.step;
      x_ticks.emplace_back(value, format_fixed(value, xt.decimals));
    }
  }
  const double bottom = kTop + kPlotHeight;
  for (auto [value, label] : x_ticks) {
    if (label.size() > 14) label = label.substr(0, 13) + "...";
    double x = scale.to_x(value);
    svg << "<line class=\"tick\" x1=\"" << px(x) << "\" x2=\"" << px(x) << "\" y1=\"" << bottom
        << "\" y2=\"" << bottom + 5 << "\"/><text class=\"xtick\" x=\"" << px(x) << "\" y=\""
        << bottom + 18 << "\">" << escape(label) << "</text>\n";
  }
}

void draw_axis_labels(std::ostream& svg, const Chart& chart) {
  svg << "<text class=\"xlabel\" x=\"" << px(kLeft + kPlotWidth / 2) << "\" y=\"" << kHeight - 8
      << "\">" << escape(chart.x.label) << "</text>\n";
  svg << "<text class=\"ylabel\" transform=\"translate(16 " << px(kTop + kPlotHeight / 2)
      << ") rotate(-90)\">" << escape(chart.y.label) << "</text>\n";
}

// One entry per series that has points, in a row above the plot.
void draw_legend(std::ostream& svg, const Chart& chart) {
  // About 6 pixels a character at 11px: the legend moves left rather than run off the chart.
  auto legend_width = [](const Series& series) { return 28 + 6.2 * series.name.size(); };
  double legend_x = 0;
  for (const auto& series : chart.series)
    legend_x += series.points.empty() ? 0 : legend_width(series);
  legend_x = std::max(8.0, std::min(kLeft, kWidth - 8 - legend_x));
  for (const auto& series : chart.series) {
    if (series.points.empty()) continue;
    svg << marker(series, legend_x + 6, 36) << "<text class=\"legend\" x=\"" << px(legend_x + 16)
        << "\" y=\"40\">" << escape(series.name) << "</text>\n";
    legend_x += legend_width(series);
  }
}

void draw_series(std::ostream& svg, const Chart& chart, const Scale& scale) {
  for (const auto& series : chart.series) {
    if (series.marker == Marker::kDot && series.points.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << series.color
          << "\" stroke-width=\"2\" points=\"";
      for (const auto& [x, y] : series.points) {
        svg << px(scale.to_x(x)) << "," << px(scale.to_y(y)) << " ";
      }
      svg << "\"/>\n";
    }
    for (const auto& [x, y] : series.points) svg << marker(series, scale.to_x(x), scale.to_y(y));
    if (!series.points.empty()) svg << "\n";
  }
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_chart(Chart chart) {
  drop_unplottable_points(chart);
  const Scale scale = scale_of(chart);
  std::ostringstream svg;
  draw_frame(svg, chart);
  draw_y_grid(svg, scale);
  draw_x_ticks(svg, chart, scale);
  draw_axis_labels(svg, chart);
  draw_legend(svg, chart);
  draw_series(svg, chart, scale);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace orch::html
