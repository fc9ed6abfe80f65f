"""WTO member names as sources write them, resolved to one code and the names we print.

Codes are ISO alpha-3, ``EU`` (the old symbol code ``EEC`` resolves to it) and ``TPKM`` (Chinese
Taipei), as in ``G/TBT/N/<code>/...``. The symbol's code is the most reliable and wins over the
name. Names are read whatever the case, accents, punctuation, word order ("Korea, Republic of"),
a leading ISO alpha-2 code ("SA Saudi Arabia") or the language (English, Chinese simplified and
traditional, common German/French/Spanish). A list of names ("阿联酋、巴林、科威特") resolves to
its first known member. Unknown names never raise: they give ``Member(code="", name_en=<cleaned
input>, name_zh="")``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NAME = 200  # characters kept of an unknown name

# code | ISO alpha-2 | WTO name | Chinese name | other names, ";"-separated
_TABLE = """
EU|EU|European Union|欧盟|EC;EEC;European Communities;European Community;Europäische Union;Union européenne;Unión Europea;歐盟;欧洲联盟;歐洲聯盟;欧共体
AUT|AT|Austria|奥地利|Österreich;Autriche
BEL|BE|Belgium|比利时|Belgien;Belgique;Bélgica;比利時
BGR|BG|Bulgaria|保加利亚|Bulgarien;Bulgarie;保加利亞
HRV|HR|Croatia|克罗地亚|Kroatien;Croatie;Croacia;克羅地亞
CYP|CY|Cyprus|塞浦路斯|Zypern;Chypre;Chipre
CZE|CZ|Czech Republic|捷克|Czechia;Tschechien;République tchèque;República Checa;捷克共和国;捷克共和國
DNK|DK|Denmark|丹麦|Dänemark;Danemark;Dinamarca;丹麥
EST|EE|Estonia|爱沙尼亚|Estland;Estonie;愛沙尼亞
FIN|FI|Finland|芬兰|Finnland;Finlande;Finlandia;芬蘭
FRA|FR|France|法国|Frankreich;Francia;法國
DEU|DE|Germany|德国|Deutschland;Allemagne;Alemania;德國
GRC|GR|Greece|希腊|Griechenland;Grèce;Grecia;希臘
HUN|HU|Hungary|匈牙利|Ungarn;Hongrie;Hungría
IRL|IE|Ireland|爱尔兰|Irland;Irlande;Irlanda;愛爾蘭
ITA|IT|Italy|意大利|Italien;Italie;Italia
LVA|LV|Latvia|拉脱维亚|Lettland;Lettonie;Letonia;拉脫維亞
LTU|LT|Lithuania|立陶宛|Litauen;Lituanie;Lituania
LUX|LU|Luxembourg|卢森堡|Luxemburg;Luxemburgo;盧森堡
MLT|MT|Malta|马耳他|Malte;馬耳他
NLD|NL|Netherlands|荷兰|The Netherlands;Holland;Niederlande;Pays-Bas;Países Bajos;荷蘭
POL|PL|Poland|波兰|Polen;Pologne;Polonia;波蘭
PRT|PT|Portugal|葡萄牙|
ROU|RO|Romania|罗马尼亚|Rumänien;Roumanie;Rumania;羅馬尼亞
SVK|SK|Slovak Republic|斯洛伐克|Slovakia;Slowakei;République slovaque;República Eslovaca;斯洛伐克共和国
SVN|SI|Slovenia|斯洛文尼亚|Slowenien;Slovénie;Eslovenia;斯洛文尼亞
ESP|ES|Spain|西班牙|Spanien;Espagne;España
SWE|SE|Sweden|瑞典|Schweden;Suède;Suecia
USA|US|United States|美国|United States of America;US;U.S.;U.S.A.;America;Vereinigte Staaten;Vereinigte Staaten von Amerika;États-Unis;Etats-Unis d'Amérique;Estados Unidos;美國;美利坚合众国;美利堅合眾國
CAN|CA|Canada|加拿大|Kanada;Canadá
MEX|MX|Mexico|墨西哥|Mexiko;Mexique;México
BRA|BR|Brazil|巴西|Brasilien;Brésil;Brasil
ARG|AR|Argentina|阿根廷|Argentinien;Argentine
CHL|CL|Chile|智利|Chili
COL|CO|Colombia|哥伦比亚|Kolumbien;Colombie;哥倫比亞
PER|PE|Peru|秘鲁|Pérou;Perú;秘魯
ECU|EC|Ecuador|厄瓜多尔|Équateur;厄瓜多爾
URY|UY|Uruguay|乌拉圭|烏拉圭
PRY|PY|Paraguay|巴拉圭|
BOL|BO|Bolivia, Plurinational State of|玻利维亚|Bolivia;Bolivien;Bolivie;玻利維亞
VEN|VE|Venezuela, Bolivarian Republic of|委内瑞拉|Venezuela;委內瑞拉
GTM|GT|Guatemala|危地马拉|危地馬拉;瓜地馬拉
SLV|SV|El Salvador|萨尔瓦多|薩爾瓦多
HND|HN|Honduras|洪都拉斯|
NIC|NI|Nicaragua|尼加拉瓜|
PAN|PA|Panama|巴拿马|Panamá;巴拿馬
CRI|CR|Costa Rica|哥斯达黎加|哥斯達黎加
DOM|DO|Dominican Republic|多米尼加共和国|Dominikanische Republik;République dominicaine;República Dominicana;多米尼加;多米尼加共和國;多明尼加
DMA|DM|Dominica|多米尼克|
CUB|CU|Cuba|古巴|Kuba
HTI|HT|Haiti|海地|Haïti;Haití
JAM|JM|Jamaica|牙买加|Jamaika;Jamaïque;牙買加
TTO|TT|Trinidad and Tobago|特立尼达和多巴哥|Trinidad und Tobago;Trinité-et-Tobago;Trinidad y Tabago;Trinidad y Tobago;特立尼達和多巴哥;特立尼達及多巴哥
BRB|BB|Barbados|巴巴多斯|
BLZ|BZ|Belize|伯利兹|伯利茲;貝里斯
GUY|GY|Guyana|圭亚那|圭亞那
SUR|SR|Suriname|苏里南|蘇里南
JPN|JP|Japan|日本|Japon;Japón
KOR|KR|Korea, Republic of|韩国|Republic of Korea;Korea;South Korea;Südkorea;Corée;République de Corée;Corea;República de Corea;大韩民国;大韓民國;韓國;南韩
CHN|CN|China|中国|People's Republic of China;PRC;Chine;中华人民共和国;中華人民共和國;中國
TPKM|TW|Chinese Taipei|台澎金马单独关税区|Taiwan;Separate Customs Territory of Taiwan, Penghu, Kinmen and Matsu;Taipei chinois;Taipéi Chino;中华台北;中華台北;中国台北;中國台北;台湾;臺灣;台灣;臺澎金馬單獨關稅區;台澎金馬單獨關稅區
HKG|HK|Hong Kong, China|中国香港|Hong Kong;Hongkong;Hong Kong, Chine;香港;中國香港
MAC|MO|Macao, China|中国澳门|Macao;Macau;Macao, Chine;澳门;澳門;中國澳門
MNG|MN|Mongolia|蒙古|Mongolei;Mongolie
IND|IN|India|印度|Indien;Inde
PAK|PK|Pakistan|巴基斯坦|
BGD|BD|Bangladesh|孟加拉国|Bangladesch;孟加拉;孟加拉國
LKA|LK|Sri Lanka|斯里兰卡|斯里蘭卡
NPL|NP|Nepal|尼泊尔|Népal;尼泊爾
MDV|MV|Maldives|马尔代夫|Malediven;馬爾代夫
AFG|AF|Afghanistan|阿富汗|
IDN|ID|Indonesia|印度尼西亚|Indonesien;Indonésie;印尼;印度尼西亞
THA|TH|Thailand|泰国|Thaïlande;Tailandia;泰國
VNM|VN|Viet Nam|越南|Vietnam
MYS|MY|Malaysia|马来西亚|Malaisie;Malasia;馬來西亞
PHL|PH|Philippines|菲律宾|The Philippines;Philippinen;Filipinas;菲律賓
SGP|SG|Singapore|新加坡|Singapur;Singapour
KHM|KH|Cambodia|柬埔寨|Kambodscha;Cambodge;Camboya
LAO|LA|Lao People's Democratic Republic|老挝|Laos;Lao PDR;老撾
MMR|MM|Myanmar|缅甸|緬甸
BRN|BN|Brunei Darussalam|文莱|Brunei;文萊;汶萊
AUS|AU|Australia|澳大利亚|Australien;Australie;澳洲;澳大利亞
NZL|NZ|New Zealand|新西兰|Neuseeland;Nouvelle-Zélande;Nueva Zelandia;Nueva Zelanda;新西蘭;紐西蘭
FJI|FJ|Fiji|斐济|Fidschi;斐濟
PNG|PG|Papua New Guinea|巴布亚新几内亚|巴布亞新幾內亞
GBR|GB|United Kingdom|英国|UK;U.K.;Great Britain;Vereinigtes Königreich;Royaume-Uni;Reino Unido;英國
CHE|CH|Switzerland|瑞士|Schweiz;Suisse;Suiza
NOR|NO|Norway|挪威|Norwegen;Norvège;Noruega
ISL|IS|Iceland|冰岛|Island;Islande;Islandia;冰島
LIE|LI|Liechtenstein|列支敦士登|
ALB|AL|Albania|阿尔巴尼亚|Albanien;Albanie;阿爾巴尼亞
MKD|MK|North Macedonia|北马其顿|Macedonia;Nordmazedonien;北馬其頓
MNE|ME|Montenegro|黑山|
RUS|RU|Russian Federation|俄罗斯|Russia;Russland;Russie;Fédération de Russie;Federación de Rusia;俄罗斯联邦;俄羅斯;俄羅斯聯邦
UKR|UA|Ukraine|乌克兰|Ucrania;烏克蘭
MDA|MD|Moldova, Republic of|摩尔多瓦|Moldova;Republic of Moldova;摩爾多瓦
GEO|GE|Georgia|格鲁吉亚|Georgien;Géorgie;格魯吉亞
ARM|AM|Armenia|亚美尼亚|Armenien;Arménie;亞美尼亞
KAZ|KZ|Kazakhstan|哈萨克斯坦|Kasachstan;哈薩克斯坦
KGZ|KG|Kyrgyz Republic|吉尔吉斯斯坦|Kyrgyzstan;吉爾吉斯斯坦
TJK|TJ|Tajikistan|塔吉克斯坦|
TUR|TR|Türkiye|土耳其|Turkey;Türkei;Turquie;Turquía
ISR|IL|Israel|以色列|Israël
JOR|JO|Jordan|约旦|Jordanien;Jordanie;Jordania;約旦
SAU|SA|Saudi Arabia, Kingdom of|沙特阿拉伯|Saudi Arabia;KSA;Saudi-Arabien;Arabie saoudite;Arabia Saudita;沙特;沙特阿拉伯王国;沙特阿拉伯王國;沙烏地阿拉伯
ARE|AE|United Arab Emirates|阿拉伯联合酋长国|UAE;U.A.E.;Vereinigte Arabische Emirate;Émirats arabes unis;Emiratos Árabes Unidos;阿联酋;阿聯酋;阿拉伯聯合酋長國
BHR|BH|Bahrain, Kingdom of|巴林|Bahrain;Bahreïn;Bahrein;巴林王国;巴林王國
KWT|KW|Kuwait, the State of|科威特|Kuwait;Koweït;科威特国;科威特國
OMN|OM|Oman|阿曼|Sultanate of Oman;阿曼苏丹国;阿曼蘇丹國
QAT|QA|Qatar|卡塔尔|卡塔爾
YEM|YE|Yemen|也门|Jemen;Yémen;也門
EGY|EG|Egypt|埃及|Ägypten;Égypte;Egipto
MAR|MA|Morocco|摩洛哥|Marokko;Maroc;Marruecos
TUN|TN|Tunisia|突尼斯|Tunesien;Tunisie;Túnez
KEN|KE|Kenya|肯尼亚|Kenia;肯尼亞;肯亞
UGA|UG|Uganda|乌干达|Ouganda;烏干達
TZA|TZ|Tanzania|坦桑尼亚|Tansania;Tanzanie;United Republic of Tanzania;坦桑尼亞
RWA|RW|Rwanda|卢旺达|Ruanda;盧旺達
BDI|BI|Burundi|布隆迪|
ZAF|ZA|South Africa|南非|Südafrika;Afrique du Sud;Sudáfrica
BWA|BW|Botswana|博茨瓦纳|Botsuana;博茨瓦納
NAM|NA|Namibia|纳米比亚|Namibie;納米比亞
ZMB|ZM|Zambia|赞比亚|Sambia;Zambie;贊比亞
ZWE|ZW|Zimbabwe|津巴布韦|Simbabwe;津巴布韋
MWI|MW|Malawi|马拉维|馬拉維
MOZ|MZ|Mozambique|莫桑比克|Mosambik
MDG|MG|Madagascar|马达加斯加|Madagaskar;馬達加斯加
MUS|MU|Mauritius|毛里求斯|Maurice;Mauricio
SYC|SC|Seychelles|塞舌尔|塞舌爾
AGO|AO|Angola|安哥拉|
NGA|NG|Nigeria|尼日利亚|Nigéria;尼日利亞
GHA|GH|Ghana|加纳|加納
CIV|CI|Côte d'Ivoire|科特迪瓦|Ivory Coast;Elfenbeinküste
SEN|SN|Senegal|塞内加尔|Sénégal;塞內加爾
CMR|CM|Cameroon|喀麦隆|Kamerun;Cameroun;Camerún;喀麥隆
"""

_ALIASES = {"EEC": "EU"}  # symbol codes that name another code's member
_PREFIX_RE = re.compile(
    r"^(?:the )?(?:(?:kingdom|state|sultanate|republic|plurinational state) of )?"
)
_ALPHA2_RE = re.compile(r"([A-Z]{2})\s+(\S.*)")
_LIST_RE = re.compile(r"[、,;/，；]")


@dataclass(frozen=True)
class Member:
    code: str
    name_en: str
    name_zh: str


def _key(name: str) -> str:
    """Case, accents, punctuation and spacing folded: "Israël" == "ISRAEL"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    text = unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))
    text = re.sub(r"[^\w]+|_", " ", text.casefold().replace("&", " and "))
    return " ".join(text.split())


def _load() -> tuple[dict[str, Member], dict[str, Member], dict[str, Member]]:
    by_code: dict[str, Member] = {}
    by_alpha2: dict[str, Member] = {}
    by_name: dict[str, Member] = {}
    for line in _TABLE.strip().splitlines():
        code, alpha2, name_en, name_zh, others = line.split("|")
        member = Member(code, name_en, name_zh)
        by_code[code] = by_alpha2[alpha2] = member
        for name in (name_en, name_zh, *others.split(";")):
            if name:
                by_name.setdefault(_key(name), member)
    for code, member in by_code.items():
        by_name.setdefault(_key(code), member)
    for old, new in _ALIASES.items():
        by_code[old] = by_code[new]
    return by_code, by_alpha2, by_name


_BY_CODE, _BY_ALPHA2, _BY_NAME = _load()
MEMBERS: tuple[Member, ...] = tuple(dict.fromkeys(_BY_CODE.values()))


def member_by_code(code: str) -> Member | None:
    """The member of a symbol code (``USA``, ``EU``, ``EEC``, ``TPKM``), or None if not in our table."""
    return _BY_CODE.get(code.strip().upper())


def _clean(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)[: MAX_NAME * 5]
    return " ".join(text.split())[:MAX_NAME].strip(" ,;:.-")


def _by_name(name: str) -> Member | None:
    key = _key(name)
    variants = [key]
    if name.count(",") == 1:
        head, tail = name.split(",")
        variants.append(_key(f"{tail} {head}"))
    variants += [_PREFIX_RE.sub("", v) for v in variants]
    for variant in variants:
        if variant in _BY_NAME:
            return _BY_NAME[variant]
    return None


def _resolve(name: str) -> Member | None:
    found = _by_name(name)
    if found:
        return found
    prefixed = _ALPHA2_RE.fullmatch(name)
    if prefixed:
        return _by_name(prefixed.group(2)) or _BY_ALPHA2.get(prefixed.group(1))
    for piece in _LIST_RE.split(name):
        found = _by_name(piece) if piece.strip() else None
        if found:
            return found
    return None


def normalise_member(name: str, symbol_member: str | None = None) -> Member:
    """Resolve a member name; the symbol's member code, when given, wins over the name."""
    cleaned = _clean(name) if isinstance(name, str) else ""
    code = symbol_member.strip().upper() if isinstance(symbol_member, str) else ""
    if code:
        known = _BY_CODE.get(code)
        if known:
            return known
        if re.fullmatch(r"[A-Z]{3}", code):
            return Member(code, cleaned or code, "")
    return _resolve(cleaned) or Member("", cleaned, "")
