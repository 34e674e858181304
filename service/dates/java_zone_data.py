"""Java 17 time zone display data (Locale.US), generated from a JVM; read by `service.dates.zones`.

To cover another zone, print its `TimeZone.getDisplayName` values and `SimpleDateFormat("z")` parses.
"""

from __future__ import annotations

# IANA id, raw offset and DST savings (minutes), short standard, short daylight, long standard, long daylight.
JAVA_ZONES = """\
UTC,0,0,UTC,UTC,Coordinated Universal Time,Coordinated Universal Time
GMT,0,0,GMT,GMT,Greenwich Mean Time,Greenwich Mean Time
America/New_York,-300,60,EST,EDT,Eastern Standard Time,Eastern Daylight Time
America/Chicago,-360,60,CST,CDT,Central Standard Time,Central Daylight Time
America/Denver,-420,60,MST,MDT,Mountain Standard Time,Mountain Daylight Time
America/Phoenix,-420,0,MST,MDT,Mountain Standard Time,Mountain Daylight Time
America/Los_Angeles,-480,60,PST,PDT,Pacific Standard Time,Pacific Daylight Time
America/Anchorage,-540,60,AKST,AKDT,Alaska Standard Time,Alaska Daylight Time
Pacific/Honolulu,-600,0,HST,HDT,Hawaii-Aleutian Standard Time,Hawaii-Aleutian Daylight Time
America/Halifax,-240,60,AST,ADT,Atlantic Standard Time,Atlantic Daylight Time
America/St_Johns,-210,60,NST,NDT,Newfoundland Standard Time,Newfoundland Daylight Time
America/Puerto_Rico,-240,0,AST,ADT,Atlantic Standard Time,Atlantic Daylight Time
America/Toronto,-300,60,EST,EDT,Eastern Standard Time,Eastern Daylight Time
America/Vancouver,-480,60,PST,PDT,Pacific Standard Time,Pacific Daylight Time
America/Mexico_City,-360,0,CST,CDT,Central Standard Time,Central Daylight Time
America/Bogota,-300,0,COT,COST,Colombia Standard Time,Colombia Summer Time
America/Lima,-300,0,PET,PEST,Peru Standard Time,Peru Summer Time
America/Caracas,-240,0,VET,VEST,Venezuela Time,Venezuela Summer Time
America/Santiago,-240,60,CLT,CLST,Chile Standard Time,Chile Summer Time
America/Sao_Paulo,-180,0,BRT,BRST,Brasilia Standard Time,Brasilia Summer Time
America/Argentina/Buenos_Aires,-180,0,ART,ARST,Argentina Standard Time,Argentina Summer Time
Europe/London,0,60,GMT,BST,Greenwich Mean Time,British Summer Time
Europe/Dublin,0,60,GMT,IST,Greenwich Mean Time,Irish Standard Time
Europe/Lisbon,0,60,WET,WEST,Western European Standard Time,Western European Summer Time
Europe/Paris,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Berlin,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Madrid,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Rome,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Amsterdam,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Zurich,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Stockholm,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Warsaw,60,60,CET,CEST,Central European Standard Time,Central European Summer Time
Europe/Athens,120,60,EET,EEST,Eastern European Standard Time,Eastern European Summer Time
Europe/Helsinki,120,60,EET,EEST,Eastern European Standard Time,Eastern European Summer Time
Europe/Kiev,120,60,EET,EEST,Eastern European Standard Time,Eastern European Summer Time
Europe/Istanbul,180,0,TRT,TRST,Turkey Time,Turkey Summer Time
Europe/Moscow,180,0,MSK,MSD,Moscow Standard Time,Moscow Summer Time
Africa/Cairo,120,60,EET,EEST,Eastern European Standard Time,Eastern European Summer Time
Africa/Johannesburg,120,0,SAST,SAST,South Africa Standard Time,South Africa Summer Time
Africa/Lagos,60,0,WAT,WAST,West Africa Standard Time,West Africa Summer Time
Africa/Nairobi,180,0,EAT,EAST,East Africa Time,Eastern African Summer Time
Asia/Jerusalem,120,60,IST,IDT,Israel Standard Time,Israel Daylight Time
Asia/Dubai,240,0,GST,GDT,Gulf Standard Time,Gulf Daylight Time
Asia/Karachi,300,0,PKT,PKST,Pakistan Standard Time,Pakistan Summer Time
Asia/Kolkata,330,0,IST,IDT,India Standard Time,India Daylight Time
Asia/Calcutta,330,0,IST,IDT,India Standard Time,India Daylight Time
Asia/Kathmandu,345,0,NPT,NPST,Nepal Time,Nepal Summer Time
Asia/Dhaka,360,0,BDT,BDST,Bangladesh Standard Time,Bangladesh Summer Time
Asia/Bangkok,420,0,ICT,ICST,Indochina Time,Indochina Summer Time
Asia/Ho_Chi_Minh,420,0,ICT,ICST,Indochina Time,Indochina Summer Time
Asia/Jakarta,420,0,WIB,WIST,Western Indonesia Time,West Indonesia Summer Time
Asia/Singapore,480,0,SGT,SGST,Singapore Standard Time,Singapore Summer Time
Asia/Kuala_Lumpur,480,0,MYT,MYST,Malaysia Time,Malaysia Summer Time
Asia/Hong_Kong,480,0,HKT,HKST,Hong Kong Standard Time,Hong Kong Summer Time
Asia/Shanghai,480,0,CST,CDT,China Standard Time,China Daylight Time
Asia/Taipei,480,0,CST,CDT,Taipei Standard Time,Taipei Daylight Time
Asia/Manila,480,0,PST,PDT,Philippine Standard Time,Philippine Summer Time
Asia/Seoul,540,0,KST,KDT,Korean Standard Time,Korean Daylight Time
Asia/Tokyo,540,0,JST,JDT,Japan Standard Time,Japan Daylight Time
Australia/Perth,480,0,AWST,AWDT,Australian Western Standard Time,Australian Western Daylight Time
Australia/Adelaide,570,60,ACST,ACDT,Australian Central Standard Time,Australian Central Daylight Time
Australia/Darwin,570,0,ACST,ACDT,Australian Central Standard Time,Australian Central Daylight Time
Australia/Brisbane,600,0,AEST,AEDT,Australian Eastern Standard Time,Australian Eastern Daylight Time
Australia/Sydney,600,60,AEST,AEDT,Australian Eastern Standard Time,Australian Eastern Daylight Time
Australia/Melbourne,600,60,AEST,AEDT,Australian Eastern Standard Time,Australian Eastern Daylight Time
Pacific/Auckland,720,60,NZST,NZDT,New Zealand Standard Time,New Zealand Daylight Time
Pacific/Guam,600,0,ChST,ChDT,Chamorro Standard Time,Chamorro Daylight Time
Etc/UTC,0,0,UTC,UTC,Coordinated Universal Time,Coordinated Universal Time
Etc/GMT,0,0,GMT,GMT,Greenwich Mean Time,Greenwich Mean Time
"""

# What Java's `z` parser makes of each name (with the formatter's zone UTC), as a UTC offset in minutes.
# Java's answer, ambiguities included: IST reads as Israel, CST as US Central, BST as British Summer Time.
TEXT_ZONES = """\
UTC=0|Coordinated Universal Time=0|GMT=0|Greenwich Mean Time=0|EST=-300|EDT=-240
Eastern Standard Time=-300|Eastern Daylight Time=-240|CST=-360|CDT=-300|Central Standard Time=-360
Central Daylight Time=-300|MST=-420|MDT=-360|Mountain Standard Time=-420|Mountain Daylight Time=-360
PST=-480|PDT=-420|Pacific Standard Time=-480|Pacific Daylight Time=-420|AKST=-540|AKDT=-480
Alaska Standard Time=-540|Alaska Daylight Time=-480|HST=-600|HDT=-600
Hawaii-Aleutian Standard Time=-600|Hawaii-Aleutian Daylight Time=-600|AST=-240|ADT=-180
Atlantic Standard Time=-240|Atlantic Daylight Time=-180|NST=-210|NDT=-150
Newfoundland Standard Time=-210|Newfoundland Daylight Time=-150|COT=-300|COST=-300
Colombia Standard Time=-300|Colombia Summer Time=-300|PET=-300|PEST=-300|Peru Standard Time=-300
Peru Summer Time=-300|VET=-240|VEST=-240|Venezuela Time=-240|Venezuela Summer Time=-240|CLT=-240
CLST=-180|Chile Standard Time=-240|Chile Summer Time=-180|BRT=-180|BRST=-180
Brasilia Standard Time=-180|Brasilia Summer Time=-180|ART=-180|ARST=-180
Argentina Standard Time=-180|Argentina Summer Time=-180|BST=60|British Summer Time=60|IST=120
Irish Standard Time=60|WET=0|WEST=60|Western European Standard Time=0
Western European Summer Time=60|CET=60|CEST=120|Central European Standard Time=60
Central European Summer Time=120|EET=120|EEST=180|Eastern European Standard Time=120
Eastern European Summer Time=180|TRT=180|TRST=180|Turkey Time=180|Turkey Summer Time=180|MSK=180
MSD=180|Moscow Standard Time=180|Moscow Summer Time=180|SAST=120|South Africa Standard Time=120
South Africa Summer Time=120|WAT=60|WAST=60|West Africa Standard Time=60|West Africa Summer Time=60
EAT=180|EAST=180|East Africa Time=180|Eastern African Summer Time=180|IDT=180
Israel Standard Time=120|Israel Daylight Time=180|GST=240|GDT=240|Gulf Standard Time=240
Gulf Daylight Time=240|PKT=300|PKST=300|Pakistan Standard Time=300|Pakistan Summer Time=300
India Standard Time=330|India Daylight Time=330|NPT=345|NPST=345|Nepal Time=345
Nepal Summer Time=345|BDT=360|BDST=360|Bangladesh Standard Time=360|Bangladesh Summer Time=360
ICT=420|ICST=420|Indochina Time=420|Indochina Summer Time=420|WIB=420|WIST=420
Western Indonesia Time=420|West Indonesia Summer Time=420|SGT=480|SGST=480
Singapore Standard Time=480|Singapore Summer Time=480|MYT=480|MYST=480|Malaysia Time=480
Malaysia Summer Time=480|HKT=480|HKST=480|Hong Kong Standard Time=480|Hong Kong Summer Time=480
China Standard Time=480|China Daylight Time=480|Taipei Standard Time=480|Taipei Daylight Time=480
Philippine Standard Time=480|Philippine Summer Time=480|KST=540|KDT=540|Korean Standard Time=540
Korean Daylight Time=540|JST=540|JDT=540|Japan Standard Time=540|Japan Daylight Time=540|AWST=480
AWDT=480|Australian Western Standard Time=480|Australian Western Daylight Time=480|ACST=570|ACDT=570
Australian Central Standard Time=570|Australian Central Daylight Time=570|AEST=600|AEDT=660
Australian Eastern Standard Time=600|Australian Eastern Daylight Time=660|NZST=720|NZDT=780
New Zealand Standard Time=720|New Zealand Daylight Time=780|ChST=600|ChDT=600
Chamorro Standard Time=600|Chamorro Daylight Time=600|Hawaii Standard Time=-600
"""

# Java's three-letter ids (java.time.ZoneId.SHORT_IDS) as java.util.TimeZone resolves them.
JAVA_SHORT_IDS = {
    "ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago", "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
}

# The three ids Java keeps as fixed offsets: offset (minutes) and long name.
JAVA_FIXED_IDS = {
    "EST": (-300, "Eastern Standard Time"),
    "MST": (-420, "Mountain Standard Time"),
    "HST": (-600, "Hawaii Standard Time"),
}
