"""The prose around the tables: section headings and paragraphs of a synthetic report.

Sentences restate headline numbers of the tables (requests received, carried
over, granted, carried forward, reviews and lawsuits), as real reports do in
their sections 一 and 三; the rest is generic filler of a realistic length.
All of it is written for these synthetic reports.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .values import SynthReport

SECTIONS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)

_OPENING = (
    "本报告根据《中华人民共和国政府信息公开条例》和上级主管部门关于政府信息公开工作年度报告的要求编制。",
    "报告全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
    "存在的主要问题及改进情况、其他需要报告的事项，并附相关统计表。",
    "本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
    "本报告的电子版可在本机关门户网站政府信息公开专栏下载。",
)
_FILLER = (
    "本机关坚持以公开为常态、不公开为例外，持续完善政务公开工作机制，明确专人负责政府信息公开日常工作。",
    "围绕重点领域信息公开要求，及时更新机构职能、政策文件、财政预决算等栏目内容，确保信息准确、完整。",
    "严格落实公开属性源头认定和发布前保密审查制度，做到先审查、后公开，一事一审、全面审查。",
    "加强政策解读和回应关切，采用图文、问答等形式对重要政策进行解读，提高政策知晓度。",
    "规范依申请公开办理流程，做好登记、审核、办理、答复、归档等各环节工作，确保在法定期限内答复。",
    "组织开展政务公开业务培训，提升工作人员的公开意识和业务能力。",
    "持续优化政府网站政府信息公开专栏，完善检索功能，方便公众查阅。",
    "加强政务新媒体管理，及时转载和发布权威信息，扩大政务信息传播范围。",
    "建立健全政府信息公开工作考核、社会评议和责任追究制度，主动接受社会监督。",
    "及时做好政府信息公开指南和目录的更新工作，方便公众了解获取政府信息的方式和途径。",
    "围绕群众关注的教育、医疗、住房、就业等民生领域，持续加大信息公开力度，及时发布办事指南和服务信息。",
    "严格执行重大行政决策预公开制度，对涉及群众切身利益的决策事项，通过座谈会、网上征求意见等方式广泛听取意见。",
    "做好财政预决算和“三公”经费公开工作，按规定公开部门预算、决算及相关说明，接受社会监督。",
    "加强政府公报、政府网站、政务新媒体等平台的统筹管理，推动各平台信息发布协调一致。",
    "健全政务舆情收集、研判、处置和回应机制，对社会关注的热点问题做到及时回应、主动发声。",
    "进一步规范政府信息公开申请的接收渠道，公开受理地址、联系电话和网上申请入口，方便申请人提出申请。",
    "对依申请公开办理中发现的共性问题，及时转为主动公开，减少重复申请。",
    "强化公开内容审核把关，对拟公开信息中涉及个人隐私和商业秘密的内容，依法作出区分处理。",
    "定期开展政府网站和政务新媒体检查，对发现的错链、断链和内容更新不及时等问题及时整改。",
    "组织新进人员学习《中华人民共和国政府信息公开条例》，增强依法公开意识。",
)
_PROBLEMS = (
    "一是信息发布的及时性和规范性有待进一步提高；二是政策解读的形式还不够丰富；三是工作人员业务能力仍需加强。",
    "下一步，本机关将进一步健全工作机制，加强业务培训，提升政务公开工作质量和水平。",
    "针对上述问题，本机关将加大督促检查力度，定期对公开栏目进行检查，及时整改发现的问题。",
)


def narrative(report: "SynthReport", rng: random.Random) -> dict[str, list[str]]:
    """Paragraphs per section (keys are the section headings, "" for the preamble)."""
    v = report.values
    received = v["t3.new_received.total"]
    carried = v["t3.carried_over.total"]
    granted = v["t3.granted.total"]
    partial = v["t3.partially_granted.total"]
    forward = v["t3.carried_forward.total"]
    handled = v["t3.total_processed.total"]
    reviews = v["t4.review.total"]
    suits = v["t4.litigation_direct.total"] + v["t4.litigation_after_review.total"]
    year = report.year
    pick = lambda pool, k: rng.sample(pool, k)  # noqa: E731
    published = rng.randint(40, 4000)
    out: dict[str, list[str]] = {
        "": ["".join(s.format(year=year) for s in _OPENING)],
        SECTIONS[0]: [
            "".join(pick(_FILLER, 4)),
            f"{year}年，本机关通过门户网站主动公开政府信息{published}条，"
            f"全年共受理政府信息公开申请{received}件，上年结转{carried}件，"
            f"其中予以公开{granted}件，部分公开{partial}件，结转下年度继续办理{forward}件。",
            *("".join(pick(_FILLER, 3)) for _ in range(rng.randint(2, 4))),
        ],
        SECTIONS[1]: ["".join(pick(_FILLER, 3)) for _ in range(rng.randint(1, 3))],
        SECTIONS[2]: [
            f"本年度共办结政府信息公开申请{handled}件，均在法定期限内予以答复。" + "".join(pick(_FILLER, 2)),
        ],
        SECTIONS[3]: [
            f"本年度发生政府信息公开行政复议{reviews}件，行政诉讼{suits}件。"
            if reviews or suits
            else "本年度未发生因政府信息公开引起的行政复议和行政诉讼。"
        ],
        SECTIONS[4]: list(pick(_PROBLEMS, 2)),
        SECTIONS[5]: [
            f"{year}年，本机关未收取政府信息公开信息处理费。" + "".join(pick(_FILLER, 1)),
        ],
    }
    return out
