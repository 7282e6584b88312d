"""Named presets for public cellular measurement sets: their columns, units and what the numbers measure.

A preset is a :class:`ColumnMapping` plus the facts a replay needs to be honest about: the citation, which
column is uplink or downlink, how the network mode is recorded, and whether the rate is the capacity of
the link or only the throughput of whatever the phone was doing. Every fact here is documented in
traces/README.md with its source; details that could not be confirmed are said to be unconfirmed there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.errors import InputError
from simulator.traces.columns import ColumnMapping, RowFilter

OBSERVED = ("observed throughput of the phone's own traffic (video streaming or file download), not link "
            "capacity: a replay treats it as the most the uplink could carry, which understates capacity "
            "whenever the application sent less than the link allowed")


@dataclass(frozen=True)
class Preset:
    """One public data set's CSV layout and meaning."""

    name: str
    dataset: str
    citation: str
    url: str
    mapping: ColumnMapping
    links: dict[str, str]
    default_link: str
    measures: str
    network_column: str | None = None

    def resolve(self, link: str | None, network: str | None) -> ColumnMapping:
        """The mapping for one link direction and (optionally) one network mode."""
        link = link or self.default_link
        if link not in self.links:
            raise InputError(None, f"preset {self.name} has no {link!r} column; it offers: "
                             f"{', '.join(self.links)}", "--link")
        mapping = replace(self.mapping, rate_col=self.links[link])
        if network is None:
            return mapping
        if self.network_column is None:
            raise InputError(None, f"preset {self.name} records no network mode", "--network")
        return mapping.with_filters(RowFilter(self.network_column, network))

    def provenance(self, link: str | None, network: str | None) -> dict:
        out = {"preset": self.name, "dataset": self.dataset, "citation": self.citation, "url": self.url,
               "link": link or self.default_link, "measures": self.measures}
        if network:
            out["network_mode"] = network
        return out


def gnettrack_preset(name: str, dataset: str, citation: str, url: str) -> Preset:
    """A set logged with G-NetTrack Pro (both UCC sets): same columns, units and timestamp format."""
    mapping = ColumnMapping(time_col="Timestamp", rate_col="UL_bitrate", time_format="%Y.%m.%d_%H.%M.%S",
                            rate_unit="kbps", missing=("", "-"))
    return Preset(name, dataset, citation, url, mapping, links={"uplink": "UL_bitrate", "downlink": "DL_bitrate"},
                  default_link="uplink", measures=OBSERVED, network_column="NetworkMode")


PRESETS: dict[str, Preset] = {p.name: p for p in (
    gnettrack_preset(
        "ucc4g",
        "UCC 4G LTE dataset with channel and context metrics (G-NetTrack Pro logs, Cork, Ireland)",
        "D. Raca, J. J. Quinlan, A. H. Zahran, C. J. Sreenan. Beyond Throughput: a 4G LTE Dataset with Channel "
        "and Context Metrics. ACM MMSys 2018. doi:10.1145/3204949.3208123",
        "http://hdl.handle.net/10468/6400",
    ),
    gnettrack_preset(
        "ucc5g",
        "UCC 5G dataset with channel and context metrics (G-NetTrack Pro logs, Ireland; github.com/uccmisl/5Gdataset)",
        "D. Raca, D. Leahy, C. J. Sreenan, J. J. Quinlan. Beyond Throughput, The Next Generation: A 5G Dataset "
        "with Channel and Context Metrics. ACM MMSys 2020. doi:10.1145/3339825.3394938",
        "https://github.com/uccmisl/5Gdataset",
    ),
    Preset(
        name="mtu5g",
        dataset="MTU InSecTT 5G NSA uplink measurements (Cork, Ireland; Telit FN980 modem, iPerf UDP uplink)",
        citation="Munster Technological University, InSecTT project: Measurements5G data set, "
                 "github.com/MTU-Insectt/Measurements5G (README; no paper is named there)",
        url="https://github.com/MTU-Insectt/Measurements5G",
        mapping=ColumnMapping(time_col="Time", rate_col="RATE(MBit/s)", time_format="%a %b %d %H:%M:%S UTC %Y",
                              rate_unit="Mbps", rate_at="end"),
        links={"uplink": "RATE(MBit/s)"},
        default_link="uplink",
        measures="uplink rate of a saturating iPerf UDP flow, computed from the modem's sent-byte counter: "
                 "close to the capacity the operator granted this device, but still one device's share",
    ),
)}
