"""Words of notification titles that name the instrument or its audience, not a product.

A title made only of these (after the forms' boilerplate that retrieval drops) names no product:
the description then says what the measure covers (see ``tbt_alert.classify.evidence``).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English: whom or which market a measure is for, and the kinds of instrument (stems, as
# retrieval's terms give them; 'regulation', 'safety', 'requirements', 'products' are dropped
# there already)
GENERIC_TITLE_WORDS = _words(
    """
    notice proposed rulemaking cfr decision commission implementing republic act amending
    amendment draft children child childrens infant consumer imported import importation
    domestic domestically manufactured good general public marketing sale sold intended use
    used people person adult market trade new
    """
)

# Spanish, French and Portuguese: the instrument ("Proyecto de Resolución por la cual se modifica
# el Reglamento Técnico", "Projet d'arrêté portant homologation obligatoire de normes", "Proposta
# de Portaria ... Requisitos de Avaliação da Conformidade"), its audience and the member's
# adjective, normalised as phrase matching normalises (lower case)
ROMANCE_BOILERPLATE = _words(
    """
    proyecto resolución resolucion reglamento reglamentos técnico tecnico técnica tecnica
    técnicos por cual que modifica modifican modificación modificacion del los las para
    anexo anexos decreto ley norma normas oficial ministerio ministerial secretaría
    secretaria acuerdo disposición nacional primera segunda tercera revisión revision página
    páginas pagina paginas español expide establece establecen adopta aprueba requisitos
    seguridad productos producto uso general conformidad evaluación evaluacion procedimiento
    procedimientos etiquetado mercado importación importados fabricados comercialización
    consumo consumidor consumidores niños infantil sobre con sus una uno este esta mediante
    vigencia entrada vigor partir numeral artículo artículos ecuatoriano ecuatoriana
    mexicano mexicana colombiano colombiana peruano peruana chileno chilena argentino
    argentina industria comercio projet arrêté arrete décret decret règlement reglement
    technique techniques portant relatif relative relatifs relatives aux des les une
    modifiant modification application obligatoire homologation norme normes ministre
    ministère ministere ministériel interministériel page pages français francais sur par
    pour exigences sécurité securite produits produit conformité évaluation procédure
    étiquetage mise marché consommateurs enfants ordonnance loi annexe nationale nationales
    national proposta portaria projeto resolução regulamento técnicos avaliação conformidade
    dos das destinados destinadas público publico segurança página páginas português inmetro
    anvisa aperfeiçoamento consulta pública altera alteração com
    """
)
