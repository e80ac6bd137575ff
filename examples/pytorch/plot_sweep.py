#!/usr/bin/python3
"""Plot a sweep from orch's database: epoch time and validation accuracy against each swept
parameter, one column of charts per parameter, with the runs that ran out of memory marked.

    /usr/bin/python3 examples/pytorch/plot_sweep.py orch.db [-e EXPERIMENT] [-o sweep.png]

Reads the database with sqlite3 and pandas (read-only: orch may still be writing it) and
draws with matplotlib; prints the table it plotted. Debian: python3-pandas python3-matplotlib.
"""
import argparse
import sqlite3
import sys

import matplotlib

matplotlib.use("Agg")  # draw to a file; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def read_runs(connection, experiment):
    """Each run's latest attempt of the experiment, with its measurements and parameters."""
    runs = pd.read_sql_query(
        """SELECT s.run_id, s.run_key, s.status, s.swept, s.epoch_s, s.val_accuracy,
                  s.peak_rss_bytes / 1048576.0 AS peak_mib
           FROM run_summary s
           WHERE s.experiment = ?
             AND s.run_id = (SELECT MAX(t.run_id) FROM run_summary t
                             WHERE t.experiment = s.experiment AND t.run_key = s.run_key)""",
        connection, params=(experiment,))
    params = pd.read_sql_query(
        """SELECT p.run_id, p.key, COALESCE(p.value_num, p.value_text) AS value
           FROM params p JOIN runs r ON r.id = p.run_id
           JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?""",
        connection, params=(experiment,))
    wide = params.pivot(index="run_id", columns="key", values="value")
    for key in wide.columns:  # whole numbers (batch sizes, widths) print as integers
        numbers = pd.to_numeric(wide[key], errors="coerce")
        if numbers.notna().all() and (numbers % 1 == 0).all():
            wide[key] = numbers.astype("int64")
    return runs.join(wide, on="run_id")


def swept_keys(runs):
    """The parameters whose value differs between the runs, in the order the runs name them."""
    keys = []
    for swept in runs["swept"].dropna():
        for word in swept.split():
            key = word.split("=", 1)[0]
            if "=" in word and key in runs.columns and key not in keys:
                keys.append(key)
    return [key for key in keys if runs[key].nunique() > 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("-e", "--experiment", help="default: the latest")
    parser.add_argument("-o", "--output", default="sweep.png")
    args = parser.parse_args()

    connection = sqlite3.connect(f"file:{args.database}?mode=ro", uri=True)
    experiment = args.experiment or connection.execute(
        "SELECT name FROM experiments ORDER BY id DESC LIMIT 1").fetchone()[0]
    runs = read_runs(connection, experiment)
    if runs.empty:
        sys.exit(f"no runs of experiment '{experiment}' in {args.database}")
    keys = swept_keys(runs)
    if not keys:
        sys.exit(f"experiment '{experiment}' sweeps nothing: there is no parameter to plot against")

    ok = runs[runs["status"] == "ok"]
    table = (ok.groupby(keys)
             .agg(runs=("run_id", "count"), epoch_s=("epoch_s", "median"),
                  val_accuracy=("val_accuracy", "mean"), peak_mib=("peak_mib", "max"))
             .reset_index())
    print(f"experiment '{experiment}': {len(ok)} of {len(runs)} runs ok")
    print(table.to_string(index=False))

    figure, axes = plt.subplots(2, len(keys), figsize=(4.5 * len(keys), 7), squeeze=False)
    for column, key in enumerate(keys):
        values = sorted(runs[key].unique(), key=lambda v: (isinstance(v, str), v))
        where = {value: i for i, value in enumerate(values)}  # categories side by side
        for row, (metric, label) in enumerate([("epoch_s", "epoch time (s)"),
                                               ("val_accuracy", "val accuracy")]):
            ax = axes[row][column]
            ax.scatter(ok[key].map(where), ok[metric], alpha=0.6, label="ok runs")
            medians = ok.groupby(key)[metric].median()
            ax.plot([where[v] for v in medians.index], medians.values, "k-", lw=1,
                    label="median")
            oom = runs[runs["status"] == "oom"]
            if row == 0 and not oom.empty:
                top = ok[metric].max() if not ok.empty else 1.0
                ax.scatter(oom[key].map(where), [top] * len(oom), marker="x", color="red",
                           label="out of memory")
            ax.set_xticks(range(len(values)), [str(v) for v in values])
            ax.set_xlabel(key)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axes[0][column].legend(fontsize="small")
    figure.suptitle(f"orch sweep '{experiment}'")
    figure.tight_layout()
    figure.savefig(args.output, dpi=100)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
