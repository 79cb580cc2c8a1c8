#!/usr/bin/env python3
"""Generate the synthetic example data set for svcaudit.

Everything written by this script is SYNTHETIC: the brand, the outlet
(网点) names, the street addresses, staff numbers and service volumes are
made up. Only province and city names are real (and correctly paired).
No real people, companies or phone numbers appear anywhere.

The output is deterministic (fixed seed ``random.Random(20261122)``, fixed
zip timestamps), so re-running the script gives byte-identical files.
Only the Python 3.11 standard library is used.

Files written next to this script:

outlets.csv
    The outlet list an applicant submits: about 320 outlets of a fictional
    appliance brand over all 31 mainland provinces. UTF-8 without BOM, LF
    line endings, comma separated, RFC 4180 quoting. Header:
    网点编号,网点名称,省份,城市,类型,员工数,年服务量,状态,地址
    Rows are shuffled (ids are not in file order). About 3 % are 停业
    (closed). Deliberately messy but valid: a few addresses contain a comma
    (quoted) and one contains double quotes (escaped as ""), four cells have
    stray leading/trailing spaces, and there is one fully blank line in the
    middle of the file.
outlets_gbk.csv
    The same table (same rows, order, cell texts and blank line) encoded as
    GBK with CRLF line endings, as Excel on Chinese Windows saves
    "CSV (逗号分隔)".
outlets.xlsx
    The same table as an Office Open XML workbook written by hand with
    zipfile: one sheet "网点清单", header in row 1, 员工数 and 年服务量 as
    numbers, every other cell a shared string (stray spaces kept). The blank
    line has no counterpart in the workbook.
include.csv
    网点编号,原因 - two open outlets that must be sampled, with reasons.
exclude.csv
    网点编号,原因 - one open outlet that must not be sampled, with a reason.
visited_2025.csv
    网点编号 - 18 open outlets visited in an earlier sample of this
    certificate cycle (disjoint from include/exclude).
"""

import io
import math
import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

OUT_DIR = Path(__file__).resolve().parent
SEED = 20261122
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

HEADER = ["网点编号", "网点名称", "省份", "城市", "类型", "员工数", "年服务量", "状态", "地址"]

# (province, number of outlets, cities - first ones get more outlets)
PROVINCES = [
    ("广东", 46, ["广州", "深圳", "佛山", "东莞", "珠海", "中山", "惠州", "江门", "汕头",
                 "湛江", "茂名", "肇庆", "揭阳", "韶关", "清远", "梅州"]),
    ("江苏", 38, ["南京", "苏州", "无锡", "常州", "南通", "徐州", "扬州", "盐城", "泰州",
                 "镇江", "淮安", "连云港", "宿迁"]),
    ("山东", 34, ["济南", "青岛", "烟台", "潍坊", "临沂", "淄博", "济宁", "威海", "德州",
                 "聊城", "泰安", "菏泽", "日照", "东营", "滨州", "枣庄"]),
    ("浙江", 32, ["杭州", "宁波", "温州", "绍兴", "嘉兴", "金华", "台州", "湖州", "衢州",
                 "丽水", "舟山"]),
    ("河南", 17, ["郑州", "洛阳", "南阳", "新乡", "许昌", "开封", "商丘", "周口"]),
    ("四川", 14, ["成都", "绵阳", "德阳", "宜宾", "南充", "泸州", "乐山"]),
    ("湖北", 12, ["武汉", "宜昌", "襄阳", "荆州", "十堰", "黄石"]),
    ("河北", 12, ["石家庄", "唐山", "保定", "邯郸", "廊坊", "沧州", "秦皇岛"]),
    ("福建", 11, ["福州", "厦门", "泉州", "漳州", "莆田"]),
    ("湖南", 10, ["长沙", "株洲", "湘潭", "衡阳", "岳阳", "常德"]),
    ("安徽", 10, ["合肥", "芜湖", "蚌埠", "安庆", "马鞍山"]),
    ("上海", 9, ["上海"]),
    ("北京", 8, ["北京"]),
    ("辽宁", 7, ["沈阳", "大连", "鞍山", "锦州"]),
    ("陕西", 6, ["西安", "宝鸡", "咸阳"]),
    ("江西", 6, ["南昌", "赣州", "九江"]),
    ("重庆", 5, ["重庆"]),
    ("广西", 5, ["南宁", "柳州", "桂林"]),
    ("天津", 4, ["天津"]),
    ("云南", 4, ["昆明", "曲靖"]),
    ("山西", 4, ["太原", "大同"]),
    ("黑龙江", 4, ["哈尔滨", "大庆"]),
    ("吉林", 3, ["长春", "吉林"]),
    ("内蒙古", 3, ["呼和浩特", "包头"]),
    ("贵州", 3, ["贵阳", "遵义"]),
    ("海南", 3, ["海口", "三亚"]),
    ("新疆", 2, ["乌鲁木齐"]),
    ("甘肃", 2, ["兰州"]),
    ("宁夏", 3, ["银川", "吴忠"]),
    ("青海", 2, ["西宁"]),
    ("西藏", 1, ["拉萨"]),
]

# Real districts, used only to make outlet names look plausible.
DISTRICTS = {
    "北京": ["朝阳", "海淀", "丰台", "东城", "西城", "通州", "昌平", "大兴", "顺义"],
    "上海": ["浦东", "徐汇", "闵行", "静安", "杨浦", "宝山", "嘉定", "松江", "普陀", "长宁"],
    "天津": ["和平", "河西", "南开", "滨海"],
    "重庆": ["渝中", "江北", "南岸", "九龙坡", "沙坪坝"],
    "广州": ["天河", "越秀", "海珠", "白云", "番禺", "黄埔"],
    "深圳": ["福田", "南山", "罗湖", "宝安", "龙岗", "龙华"],
    "杭州": ["西湖", "滨江", "萧山", "余杭", "拱墅", "上城"],
    "南京": ["鼓楼", "玄武", "江宁", "浦口", "栖霞", "建邺"],
    "苏州": ["姑苏", "吴中", "相城", "吴江", "新区"],
    "成都": ["锦江", "武侯", "青羊", "金牛", "成华", "双流"],
    "武汉": ["江汉", "武昌", "洪山", "汉阳", "江岸"],
    "青岛": ["市南", "市北", "李沧", "崂山", "黄岛", "城阳"],
    "济南": ["历下", "市中", "槐荫", "天桥", "历城"],
}
GENERIC_AREAS = ["", "城东", "城西", "城南", "城北", "中心", "新区", "开发区", "高新区",
                 "经开区", "老城", "江北", "河东"]
NAME_SUFFIXES = ["售后服务中心", "维修站", "服务网点", "服务站", "家电维修部",
                 "客户服务中心", "安装维修中心"]
ROADS = ["人民", "解放", "中山", "建设", "和平", "新华", "胜利", "东风", "文化", "长江",
         "黄河", "朝阳", "光明", "青年", "学府", "科技", "兴业", "迎宾", "滨江", "振兴"]
ROAD_KINDS = ["路", "路", "路", "东路", "西路", "南路", "北路", "大道", "街"]
ADDR_TAILS = ["", "", "", "", "1楼", "2楼", "101室", "A座", "B栋1层", "临街商铺", "3号铺"]

TYPES = [("直营", 15), ("授权", 55), ("合作", 30)]
N_CLOSED = 10

INCLUDE_REASONS = ["近一年顾客投诉较多", "上次审核有不符合项"]
EXCLUDE_REASON = "装修暂停营业至2027-01"
N_VISITED = 18


def weighted_choice(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def make_outlets(rng):
    rows = []
    used_names = set()
    for province, count, cities in PROVINCES:
        city_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(cities))]
        for _ in range(count):
            city = weighted_choice(rng, cities, city_weights)
            for _attempt in range(1000):
                area = rng.choice(DISTRICTS.get(city, GENERIC_AREAS))
                suffix = rng.choice(NAME_SUFFIXES)
                if area == "中心" and "中心" in suffix:
                    continue  # avoid names like 洛阳中心售后服务中心
                name = city + area + suffix
                if name not in used_names:
                    break
            else:
                raise RuntimeError("could not find a unique name in " + city)
            used_names.add(name)
            kind = weighted_choice(rng, [t for t, _ in TYPES], [w for _, w in TYPES])
            mu = {"直营": math.log(16), "授权": math.log(9), "合作": math.log(6)}[kind]
            staff = min(60, max(2, round(rng.lognormvariate(mu, 0.6))))
            per_staff = rng.lognormvariate(math.log(420), 0.55)
            volume = min(50000, max(200, round(staff * per_staff)))
            road = rng.choice(ROADS) + rng.choice(ROAD_KINDS)
            address = f"{city}市{road}{rng.randint(1, 999)}号{rng.choice(ADDR_TAILS)}"
            rows.append({
                "网点名称": name, "省份": province, "城市": city, "类型": kind,
                "员工数": staff, "年服务量": volume, "状态": "营业", "地址": address,
            })
    # Ids follow generation order (grouped by province) ...
    for i, row in enumerate(rows, start=1):
        row["网点编号"] = f"WD{i:04d}"
    # ... but the file order is shuffled.
    rng.shuffle(rows)
    return rows


def add_quirks(rng, rows):
    """Closed outlets, addresses with commas/quotes and stray spaces."""
    idx = list(range(len(rows)))
    rng.shuffle(idx)
    closed, idx = idx[:N_CLOSED], idx[N_CLOSED:]
    for i in closed:
        rows[i]["状态"] = "停业"
    # Addresses containing a comma (must be quoted in CSV).
    comma_rows, idx = idx[:5], idx[5:]
    for i, tail in zip(comma_rows, ["2楼", "临街商铺", "B栋1层", "101室", "近地铁站"]):
        base = rows[i]["地址"]
        for t in ADDR_TAILS:
            if t and base.endswith(t):
                base = base[: -len(t)]
        rows[i]["地址"] = base + "," + tail
    # One address with ASCII double quotes (escaped as "" in CSV).
    q = idx.pop(0)
    rows[q]["地址"] = rows[q]["地址"].split("号")[0] + '号"家电城"2楼'
    # Four cells with leading/trailing spaces (text columns only).
    authorised = [i for i in idx if rows[i]["类型"] == "授权"]
    i_type = authorised[0]
    rows[i_type]["类型"] = " 授权 "
    rest = [i for i in idx if i != i_type]
    rows[rest[0]]["城市"] = rows[rest[0]]["城市"] + " "
    rows[rest[1]]["网点名称"] = " " + rows[rest[1]]["网点名称"]
    open_rest = [i for i in rest[2:] if rows[i]["状态"] == "营业"]
    rows[open_rest[0]]["状态"] = "营业 "


def csv_field(value):
    s = str(value)
    if any(c in s for c in ',"\r\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def csv_lines(header, rows, blank_after=None):
    """Return the logical CSV lines (without terminators); '' is a blank line."""
    lines = [",".join(csv_field(h) for h in header)]
    for n, row in enumerate(rows, start=1):
        lines.append(",".join(csv_field(row[h]) for h in header))
        if blank_after is not None and n == blank_after:
            lines.append("")
    return lines


def write_text(path, lines, encoding="utf-8", newline="\n"):
    data = "".join(line + newline for line in lines).encode(encoding)
    path.write_bytes(data)
    return len(data)


# ---------------------------------------------------------------- xlsx

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def col_letter(n):
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx_parts(header, rows, sheet_name, numeric_cols):
    strings, index = [], {}

    def sst(text):
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    n_refs = 0
    out = io.StringIO()
    last = f"{col_letter(len(header) - 1)}{len(rows) + 1}"
    out.write(XML_DECL)
    out.write(f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">')
    out.write(f'<dimension ref="A1:{last}"/>')
    out.write('<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
              '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
              '</sheetView></sheetViews>')
    out.write('<sheetFormatPr defaultRowHeight="15"/>')
    widths = [10, 26, 8, 10, 8, 8, 10, 8, 36]
    out.write("<cols>")
    for i, w in enumerate(widths, start=1):
        out.write(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>')
    out.write("</cols><sheetData>")
    all_rows = [list(header)] + [[row[h] for h in header] for row in rows]
    for r, values in enumerate(all_rows, start=1):
        out.write(f'<row r="{r}">')
        for c, value in enumerate(values):
            ref = f"{col_letter(c)}{r}"
            style = ' s="1"' if r == 1 else ""
            if r > 1 and header[c] in numeric_cols:
                out.write(f'<c r="{ref}"{style}><v>{int(value)}</v></c>')
            else:
                n_refs += 1
                out.write(f'<c r="{ref}"{style} t="s"><v>{sst(str(value))}</v></c>')
        out.write("</row>")
    out.write("</sheetData>")
    out.write('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    out.write("</worksheet>")
    sheet_xml = out.getvalue()

    sst_out = io.StringIO()
    sst_out.write(XML_DECL)
    sst_out.write(f'<sst xmlns="{NS_MAIN}" count="{n_refs}" uniqueCount="{len(strings)}">')
    for s in strings:
        space = ' xml:space="preserve"' if s != s.strip() else ""
        sst_out.write(f"<si><t{space}>{escape(s)}</t></si>")
    sst_out.write("</sst>")

    content_types = (
        XML_DECL
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    )
    root_rels = (
        XML_DECL
        + f'<Relationships xmlns="{NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    workbook = (
        XML_DECL
        + f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    workbook_rels = (
        XML_DECL
        + f'<Relationships xmlns="{NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{NS_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{NS_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    styles = (
        XML_DECL
        + f'<styleSheet xmlns="{NS_MAIN}">'
        '<fonts count="2">'
        '<font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>'
        '<font><b/><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>'
        "</fonts>"
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    return [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", styles),
        ("xl/sharedStrings.xml", sst_out.getvalue()),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ]


def write_xlsx(path, parts):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # same header bytes on every platform
            info.external_attr = 0
            zf.writestr(info, text.encode("utf-8"), compresslevel=6)
    data = buf.getvalue()
    path.write_bytes(data)
    return len(data)


# ---------------------------------------------------------------- main

def main():
    rng = random.Random(SEED)
    rows = make_outlets(rng)
    add_quirks(rng, rows)

    blank_after = len(rows) // 2
    lines = csv_lines(HEADER, rows, blank_after=blank_after)
    n = len(rows)
    size = write_text(OUT_DIR / "outlets.csv", lines)
    print(f"outlets.csv: {n} outlets + header + 1 blank line, UTF-8/LF, {size} bytes")
    size = write_text(OUT_DIR / "outlets_gbk.csv", lines, encoding="gbk", newline="\r\n")
    print(f"outlets_gbk.csv: {n} outlets + header + 1 blank line, GBK/CRLF, {size} bytes")
    size = write_xlsx(OUT_DIR / "outlets.xlsx",
                      xlsx_parts(HEADER, rows, "网点清单", {"员工数", "年服务量"}))
    print(f"outlets.xlsx: sheet 网点清单, {n} outlets + header, {size} bytes")

    open_ids = sorted(r["网点编号"] for r in rows if r["状态"].strip() == "营业")
    picked = rng.sample(open_ids, len(INCLUDE_REASONS) + 1 + N_VISITED)
    include = sorted(picked[: len(INCLUDE_REASONS)])
    exclude = picked[len(INCLUDE_REASONS)]
    visited = sorted(picked[len(INCLUDE_REASONS) + 1:])

    size = write_text(OUT_DIR / "include.csv",
                      ["网点编号,原因"] + [f"{i},{csv_field(r)}" for i, r in zip(include, INCLUDE_REASONS)])
    print(f"include.csv: {len(include)} outlets, {size} bytes")
    size = write_text(OUT_DIR / "exclude.csv", ["网点编号,原因", f"{exclude},{csv_field(EXCLUDE_REASON)}"])
    print(f"exclude.csv: 1 outlet, {size} bytes")
    size = write_text(OUT_DIR / "visited_2025.csv", ["网点编号"] + visited)
    print(f"visited_2025.csv: {len(visited)} outlets, {size} bytes")


if __name__ == "__main__":
    main()
