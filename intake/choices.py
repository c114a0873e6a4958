"""Choice lists shared by the intake models and forms."""

from django.db import models


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    PORTUGUESE = "pt", "Portuguese"
    HAITIAN_CREOLE = "ht", "Haitian Creole"
    CHINESE = "zh", "Chinese"
    VIETNAMESE = "vi", "Vietnamese"
    ARABIC = "ar", "Arabic"
    RUSSIAN = "ru", "Russian"
    FRENCH = "fr", "French"
    ASL = "ase", "American Sign Language"
    OTHER = "other", "Other"


class Gender(models.TextChoices):
    WOMAN = "woman", "Woman"
    MAN = "man", "Man"
    NONBINARY = "nonbinary", "Non-binary"
    SELF_DESCRIBED = "self_described", "Self-described"
    UNDISCLOSED = "undisclosed", "Prefers not to say"


class CompanionGender(models.TextChoices):
    ANY = "", "No preference"
    WOMAN = "woman", "A woman"
    MAN = "man", "A man"
    NONBINARY = "nonbinary", "A non-binary person"


class Insurance(models.TextChoices):
    UNKNOWN = "", "Unknown"
    MEDICAID = "medicaid", "MassHealth / Medicaid"
    MEDICARE = "medicare", "Medicare"
    PRIVATE = "private", "Private insurance"
    NONE = "none", "None / self-pay"


class WarrantCheck(models.TextChoices):
    """The outcome of the warrant check only: never the warrant's details."""

    NOT_CHECKED = "not_checked", "Not checked"
    NONE = "none", "No outstanding warrant"
    PROCEED = "proceed", "Warrant found; program policy allows help to proceed"
    NOT_ELIGIBLE = "not_eligible", "Warrant found; program policy excludes"


class Substance(models.TextChoices):
    OPIOIDS = "opioids", "Opioids (heroin, fentanyl, pills)"
    ALCOHOL = "alcohol", "Alcohol"
    STIMULANTS = "stimulants", "Stimulants (cocaine, methamphetamine)"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    CANNABIS = "cannabis", "Cannabis"
    OTHER = "other", "Other"


class OverdoseHistory(models.TextChoices):
    UNKNOWN = "", "Unknown"
    NEVER = "never", "Never"
    PAST_MONTH = "past_month", "In the past month"
    PAST_YEAR = "past_year", "In the past year"
    LONGER_AGO = "longer_ago", "More than a year ago"


class Pregnancy(models.TextChoices):
    UNKNOWN = "", "Unknown / not asked"
    NO = "no", "No"
    YES = "yes", "Yes"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class SurrenderedItem(models.TextChoices):
    """What was handed over at the desk, by type only: never a quantity, a description or where
    it was found (42 CFR 2.12(d): nothing here may serve as evidence against the person)."""

    SYRINGES = "syringes", "Syringes or needles"
    EQUIPMENT = "equipment", "Other drug equipment"
    DRUGS = "drugs", "Drugs"
    NALOXONE = "naloxone", "Naloxone"
    OTHER = "other", "Other"
